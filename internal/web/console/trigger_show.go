package console

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/question"
)

// triggerShow: GET /triggers/:id — the rule, its runs by outcome and the
// latest ones with their reasons, and its question's results.
func (h *Handlers) triggerShow(c echo.Context) error {
	t, err := h.pathTrigger(c)
	if err != nil {
		return err
	}
	return h.showPage(c, "trigger", func(c echo.Context) (map[string]any, error) {
		ctx := c.Request().Context()
		counts, err := h.Store.TriggerCounts(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		runs, err := h.Store.TriggerRuns(ctx, t.ID, 0, 50)
		if err != nil {
			return nil, err
		}
		data := map[string]any{"Trigger": viewTrigger(t), "Counts": counts, "Runs": runs}
		if t.QuestionID != 0 {
			q, err := h.Store.QuestionByID(ctx, t.QuestionID)
			if err != nil {
				return nil, err
			}
			b, err := h.Store.BrandByID(ctx, t.BrandID)
			if err != nil {
				return nil, err
			}
			loc, _ := contact.ResolveTimezone(b.Timezone, "", b.Timezone)
			r, err := question.ResultsOf(ctx, h.Store, q, time.Unix(0, 0), time.Now().Add(time.Hour), loc)
			if err != nil {
				return nil, err
			}
			data["Results"] = r
		}
		return data, nil
	})
}
