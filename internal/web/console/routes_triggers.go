package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/trigger"
)

// triggerRoutes lists the marketers' pages (admins too) for proactive
// texts: trigger rules, their runs and their questions' results.
func (h *Handlers) triggerRoutes() []Route {
	return []Route{
		{http.MethodGet, "/triggers", auth.Marketing, h.triggersShow},
		{http.MethodPost, "/triggers", auth.Marketing, h.triggerCreate},
		{http.MethodGet, "/triggers/:id", auth.Marketing, h.triggerShow},
		{http.MethodPost, "/triggers/:id/delete", auth.Marketing, h.triggerDelete},
		{http.MethodGet, "/power-users", auth.Marketing, h.powerUsersShow},
	}
}

// pathTrigger resolves :id to a rule of a brand the user may see: 404 for
// an unknown one, 403 for another brand's.
func (h *Handlers) pathTrigger(c echo.Context) (store.Trigger, error) {
	id, ok := pathID(c)
	if !ok {
		return store.Trigger{}, echo.ErrNotFound
	}
	t, err := h.Store.TriggerByID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return t, echo.ErrNotFound
	}
	if err != nil {
		return t, err
	}
	if ok, err := h.mayUse(c, t.BrandID); err != nil || !ok {
		if err == nil {
			err = echo.NewHTTPError(http.StatusForbidden, "you do not have access to that brand")
		}
		return t, err
	}
	return t, nil
}

// triggerView is a rule as its pages show it.
type triggerView struct {
	store.Trigger
	Spec trigger.Spec
	When string // the delay in words
}

func viewTrigger(t store.Trigger) triggerView {
	s, _ := trigger.SpecOf(t)
	v := triggerView{Trigger: t, Spec: s}
	switch d := s.Delay; {
	case s.Date != nil:
		when := "on the day"
		if n := s.Date.OffsetDays; n < 0 {
			when = strconv.Itoa(-n) + " days before"
		} else if n > 0 {
			when = strconv.Itoa(n) + " days after"
		}
		v.When = when + " " + s.Date.Attribute + " at " + s.Date.AtLocal + " local"
	case d.AtLocal != "":
		v.When = strconv.Itoa(d.Days) + " days later at " + d.AtLocal + " local"
	case d.After == 0:
		v.When = "at once"
	default:
		v.When = d.After.String() + " later"
	}
	return v
}

// specFromForm builds a rule from the trigger form.
func specFromForm(c echo.Context) (trigger.Spec, error) {
	s := trigger.Spec{Brand: c.FormValue("brand"), Name: c.FormValue("name"), EventType: strings.TrimSpace(c.FormValue("event_type")),
		Conditions: c.FormValue("conditions"), Template: c.FormValue("template"), Purpose: c.FormValue("purpose"),
		Cooldown: strings.TrimSpace(c.FormValue("cooldown")), Expire: strings.TrimSpace(c.FormValue("expire_after"))}
	if v := strings.TrimSpace(c.FormValue("delay")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return s, &trigger.FieldError{Field: "delay", Msg: "a duration such as 2h or 0s"}
		}
		s.Delay.After = d
	}
	if at := strings.TrimSpace(c.FormValue("at_local")); at != "" {
		days, err := strconv.Atoi(strings.TrimSpace(c.FormValue("days")))
		if err != nil {
			return s, &trigger.FieldError{Field: "days", Msg: "a whole number of days"}
		}
		s.Delay = trigger.Delay{Days: days, AtLocal: at}
	}
	if attr := strings.TrimSpace(c.FormValue("date_attribute")); attr != "" {
		off, _ := strconv.Atoi(strings.TrimSpace(c.FormValue("offset_days")))
		s.Date = &trigger.DateRule{Attribute: attr, OffsetDays: off, AtLocal: strings.TrimSpace(c.FormValue("date_at_local")),
			Once: c.FormValue("once") != ""}
		s.EventType = ""
	}
	if kind := c.FormValue("question_kind"); kind != "" {
		q := &trigger.QuestionSpec{Kind: kind, Window: strings.TrimSpace(c.FormValue("window")), NoIsNegative: c.FormValue("no_is_negative") != ""}
		if v := strings.TrimSpace(c.FormValue("scale")); v != "" {
			q.Scale, _ = strconv.Atoi(v)
		}
		q.Choices = commaList(c.FormValue("choices"))
		q.FollowUps = map[string]string{}
		for _, k := range []string{"positive", "negative", "unparsed"} {
			if v := strings.TrimSpace(c.FormValue("follow_" + k)); v != "" {
				q.FollowUps[k] = v
			}
		}
		s.Question = q
	}
	return s, nil
}
