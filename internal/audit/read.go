package audit

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/sheet"
	"github.com/parleyhq/parley/internal/store"
)

// FieldError is a bad filter value: which one and why.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Query is a reader's filter as given (query parameters or a form).
type Query struct {
	Actor, Action, Since, Until string
}

// Filter checks q: since and until are RFC 3339 times or dates (a date is
// its midnight UTC; until a date is the end of that day).
func (q Query) Filter() (store.AuditFilter, error) {
	f := store.AuditFilter{Actor: strings.TrimSpace(q.Actor), Action: strings.TrimSpace(q.Action)}
	for _, p := range []struct {
		field, v string
		to       **time.Time
		end      bool
	}{{"since", q.Since, &f.Since, false}, {"until", q.Until, &f.Until, true}} {
		v := strings.TrimSpace(p.v)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			d, derr := time.Parse(time.DateOnly, v)
			if derr != nil {
				return f, &FieldError{p.field, fmt.Sprintf("%q is not an RFC 3339 time or a date (YYYY-MM-DD)", v)}
			}
			if t = d; p.end {
				t = d.AddDate(0, 0, 1)
			}
		}
		*p.to = &t
	}
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		return f, &FieldError{"until", "must be after since"}
	}
	return f, nil
}

// header is the CSV export's first row.
var header = []string{"id", "at", "actor_type", "actor", "action", "target", "brand_id", "status", "ip", "request_id",
	"before", "after", "detail"}

// Export writes the entries f selects as CSV, newest first, in pages of
// 5,000, calling flush after each; it returns how many it wrote.
func Export(ctx context.Context, st *store.Store, f store.AuditFilter, w io.Writer, flush func() error) (int64, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	var n, before int64
	for {
		es, err := st.AuditEntries(ctx, f, before, 5000)
		if err != nil {
			return n, err
		}
		for _, e := range es {
			brand := ""
			if e.BrandID != nil {
				brand = strconv.FormatInt(*e.BrandID, 10)
			}
			if err := cw.Write(sheet.Safe([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), e.ActorType, e.Actor,
				e.Action, e.Target, brand, strconv.Itoa(e.Status), e.IP, e.RequestID, string(e.Before), string(e.After),
				string(e.Detail)})); err != nil {
				return n, err
			}
			n++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
		if err := flush(); err != nil {
			return n, err
		}
		if len(es) < 5000 {
			return n, nil
		}
		before = es[len(es)-1].ID
	}
}
