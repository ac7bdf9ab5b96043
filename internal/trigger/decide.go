package trigger

import (
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/consent"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/personalize"
	"github.com/parleyhq/parley/internal/queue"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/store"
)

// Why a run did not send (trigger_runs.reason).
const (
	ReasonLate         = "late"          // the event arrived after its text expired
	ReasonExpired      = "expired"       // the text could not go before it expired
	ReasonCooldown     = "cooldown"      // the rule texted the person recently
	ReasonOpenQuestion = "open_question" // another rule's question waits for an answer
	ReasonRuleOff      = "rule_disabled" // the rule was deleted or switched off
	ReasonNoPhone      = "no_phone"
	ReasonNoSender     = "no_sender"
	ReasonRender       = "render_failed"
	ReasonUndeliver    = "undeliverable"
	ReasonQuietHours   = "quiet_hours" // quiet hours last past the expiry
)

// DueAt is when a rule's text for an event goes: the event's time plus the
// delay, or, for the local-time form, at_local on the day `days` after
// the event's local day (the next day when that is already past for a
// 0-day delay). loc is the person's zone.
func (r *Rule) DueAt(occurred time.Time, loc *time.Location) time.Time {
	d := r.Spec.Delay
	if d.AtLocal == "" {
		return occurred.Add(d.After)
	}
	h, m, _ := parseClock(d.AtLocal)
	local := occurred.In(loc)
	y, mo, day := local.Date()
	at := time.Date(y, mo, day+d.Days, h, m, 0, 0, loc)
	if !at.After(occurred) {
		at = time.Date(y, mo, day+d.Days+1, h, m, 0, 0, loc)
	}
	return at
}

// Plan is what a matching rule plans for an event: a run due at DueAt
// that may go until Expires, or nothing to schedule (Dropped) because the
// event arrived after that.
type Plan struct {
	DueAt, Expires time.Time
	Dropped        bool
	Detail         string
}

// PlanRun schedules the rule's text for an event that occurred at
// occurred, received now.
func (r *Rule) PlanRun(occurred, now time.Time, loc *time.Location) Plan {
	due := r.DueAt(occurred, loc)
	p := Plan{DueAt: due, Expires: due.Add(r.Expire)}
	if !p.Expires.After(now) {
		p.Dropped = true
		p.Detail = fmt.Sprintf("arrived %s late: the text expires %s after it was due", Ago(now.Sub(due)), Ago(r.Expire))
	}
	return p
}

// Ago writes a duration as people do: "3 days", "5 hours", "12 minutes".
func Ago(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	case d >= 2*time.Minute:
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	case d >= time.Minute:
		return "1 minute"
	}
	return fmt.Sprintf("%d seconds", int(d/time.Second))
}

// Decide judges one due run at now: the text to send, or why not. rule is
// nil when the rule is gone. It is pure: everything comes in d.
func Decide(rule *Rule, d store.DueRun, now time.Time, loc *time.Location) store.RunOutcome {
	o := store.RunOutcome{RunID: d.RunID}
	skip := func(state, reason, format string, args ...any) store.RunOutcome {
		o.State, o.Reason, o.Detail = state, reason, fmt.Sprintf(format, args...)
		return o
	}
	switch {
	case rule == nil || !rule.Enabled:
		return skip("skipped", ReasonRuleOff, "the rule was deleted or switched off before the text was due")
	case now.After(d.ExpiresAt):
		return skip("dropped", ReasonExpired, "due %s ago; the text expired %s ago", Ago(now.Sub(d.DueAt)), Ago(now.Sub(d.ExpiresAt)))
	case d.Phone == "":
		return skip("skipped", ReasonNoPhone, "the contact has no phone to text")
	case d.From == "":
		return skip("skipped", ReasonNoSender, "the brand has no number to send from")
	case d.Undeliverable:
		return skip("skipped", ReasonUndeliver, "the carrier reported %s undeliverable", d.Phone)
	}
	if ok, why := consent.Permits(rule.Purpose, false, d.Marketing, d.Conversational); !ok {
		return skip("skipped", why, "%s may not be sent %s texts (%s)", d.Phone, rule.Purpose, strings.ReplaceAll(why, "_", " "))
	}
	if rule.Cooldown > 0 && d.LastSent != nil && now.Sub(*d.LastSent) < rule.Cooldown {
		return skip("skipped", ReasonCooldown, "this rule texted them %s ago; its cooldown is %s", Ago(now.Sub(*d.LastSent)), Ago(rule.Cooldown))
	}
	if rule.Question != nil && d.OpenQuestion && !rule.Spec.AskWhileOpen {
		return skip("skipped", ReasonOpenQuestion, "another question to them is still waiting for its answer")
	}
	// The delivery engine holds proactive texts through quiet hours; a
	// hold past the expiry would deliver a text that no longer helps.
	w := outbound.QuietHours{Start: d.QuietStart, End: d.QuietEnd}
	if at, held := outbound.NextSendTime(now, loc, w); held && at.After(d.ExpiresAt) {
		return skip("dropped", ReasonQuietHours, "quiet hours for them last until %s, after the text expires at %s",
			at.In(loc).Format("Mon 15:04"), d.ExpiresAt.In(loc).Format("Mon 15:04"))
	}
	data := personalize.NewData(d.Name, d.Phone, d.LoyaltyID, d.Attributes)
	data.Event = d.EventData
	if data.Event == nil {
		data.Event = map[string]any{}
	}
	if miss := rule.Missing(data); len(miss) > 0 {
		return skip("skipped", ReasonRender, "the text prints %s, which they lack (add a default)", strings.Join(miss, ", "))
	}
	body, err := rule.Render(data)
	body = strings.TrimSpace(body)
	switch {
	case err != nil:
		return skip("skipped", ReasonRender, "%v", err)
	case body == "":
		return skip("skipped", ReasonRender, "the text is empty for them")
	case len([]rune(body)) > outbound.MaxBody:
		return skip("skipped", ReasonRender, "the text is longer than %d characters for them", outbound.MaxBody)
	}
	o.State, o.Body, o.Purpose, o.Queue = "sent", body, rule.Purpose, queue.Proactive
	o.Segments, o.Encoding = segment.Count(body)
	if rule.Question != nil {
		o.QuestionID, o.QuestionWindow = rule.QuestionID, rule.Window
	}
	return o
}
