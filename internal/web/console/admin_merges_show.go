package console

import (
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// adminMergesShow: GET /admin/merges — the merges people made in the console
// ("Link to loyalty ID") in the last 7 days, newest first, each with who made
// it, what it moved and an Undo button; ?before=ID pages on.
func (h *Handlers) adminMergesShow(c echo.Context) error {
	return h.showPage(c, "admin_merges", h.adminMergesData)
}

// mergeRow is a merge as the page lists it.
type mergeRow struct {
	ID                   int64
	When, By             string
	Customer, Member     string
	Phones               string
	Conversations        int
	Undone               string // "" while it stands
	CustomerID, MemberID int64
}

func (h *Handlers) adminMergesData(c echo.Context) (map[string]any, error) {
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	ms, err := admin.RecentMerges(c.Request().Context(), h.Store, max(before, 0), time.Now())
	if err != nil {
		return nil, err
	}
	rows := make([]mergeRow, len(ms))
	for i, m := range ms {
		r := mergeRow{ID: m.ID, When: m.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), By: orDash(m.MadeByEmail),
			Customer: orDash(m.AbsorbedName), Member: orDash(m.SurvivorName) + " (" + orDash(m.LoyaltyID) + ")",
			Phones: strings.Join(m.Detail.PhonesMoved, ", "), CustomerID: m.AbsorbedID, MemberID: m.SurvivorID,
			Conversations: len(m.Detail.ConversationsMoved) + len(m.Detail.ConversationsMerged)}
		if m.UndoneAt != nil {
			r.Undone = "undone " + m.UndoneAt.UTC().Format("2006-01-02 15:04") + " by " + orDash(m.UndoneByEmail)
		}
		rows[i] = r
	}
	data := map[string]any{"Merges": rows}
	if len(ms) == admin.MergesPage {
		data["Next"] = ms[len(ms)-1].ID
	}
	return data, nil
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
