package question

import (
	"context"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/analytics"
	"github.com/parleyhq/parley/internal/store"
)

// Results are a question's figures over a period.
type Results struct {
	QuestionID   int64            `json:"question_id"`
	Kind         string           `json:"kind"`
	Asked        int64            `json:"asked"`
	Responses    int64            `json:"responses"`
	ResponseRate float64          `json:"response_rate"`
	Unparsed     int64            `json:"unparsed"`
	Negative     int64            `json:"negative"`
	Distribution map[string]int64 `json:"distribution"`
	Mean         *float64         `json:"mean,omitempty"`
	NPS          *float64         `json:"nps,omitempty"`
	Promoters    int64            `json:"promoters,omitempty"`
	Passives     int64            `json:"passives,omitempty"`
	Detractors   int64            `json:"detractors,omitempty"`
	Daily        []Group          `json:"daily"`
	ByTier       map[string]Group `json:"by_tier"`
	ByTimezone   map[string]Group `json:"by_timezone"`
	ByVariant    map[string]Group `json:"by_variant,omitempty"`
	FreeText     []FreeAnswer     `json:"free_text"`
	// Topics are the terms and two-word phrases held by the most answers
	// in words (free-text answers, comments, unread answers), counted as
	// the analytics' topics count customers' texts; the examples' ids are
	// ask ids.
	Topics []analytics.Topic `json:"topics"`
	groups map[string]*accum
	words  []analytics.Text
}

// TopicCount is how many topics of the answers in words the results list.
const TopicCount = 10

// Group is the responses of one day or segment and their mean (or NPS).
type Group struct {
	Key       string   `json:"key,omitempty"`
	Responses int64    `json:"responses"`
	Mean      *float64 `json:"mean,omitempty"`
	NPS       *float64 `json:"nps,omitempty"`
}

// FreeAnswer is an answer in the customer's words: every answer of a
// free-text question, and every comment or unread answer of the others.
type FreeAnswer struct {
	AskID          int64     `json:"ask_id"`
	ContactID      int64     `json:"contact_id"`
	ConversationID int64     `json:"conversation_id"`
	Text           string    `json:"text"`
	Comment        string    `json:"comment,omitempty"`
	Parsed         bool      `json:"parsed"`
	AnsweredAt     time.Time `json:"answered_at"`
}

type accum struct {
	n, sum, prom, det int64
}

func (a *accum) add(kind string, v *int) {
	a.n++
	if v == nil {
		return
	}
	a.sum += int64(*v)
	if kind == string(NPS) {
		switch {
		case *v >= 9:
			a.prom++
		case *v <= 6:
			a.det++
		}
	}
}

func (a *accum) group(kind, key string) Group {
	g := Group{Key: key, Responses: a.n}
	if a.n == 0 || kind == string(FreeText) || kind == string(Choice) {
		return g
	}
	if kind == string(NPS) {
		v := round1(float64(a.prom-a.det) * 100 / float64(a.n))
		g.NPS = &v
		return g
	}
	v := round2(float64(a.sum) / float64(a.n))
	g.Mean = &v
	return g
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
func round2(v float64) float64 { return math.Round(v*100) / 100 }

// MaxFreeText is how many answers in words the results list (newest).
const MaxFreeText = 100

// Compute adds rows (asks of question q) to the results; call Finish once
// every page is in. Days are local days in loc.
func (r *Results) add(q store.Question, rows []store.AnswerRow, loc *time.Location) {
	if r.groups == nil {
		r.groups = map[string]*accum{}
		r.Distribution = map[string]int64{}
	}
	get := func(k string) *accum {
		a := r.groups[k]
		if a == nil {
			a = &accum{}
			r.groups[k] = a
		}
		return a
	}
	for _, row := range rows {
		r.Asked++
		if row.State != "answered" || row.AnsweredAt == nil {
			continue
		}
		r.Responses++
		parsed := row.Parsed != nil && *row.Parsed
		if !parsed {
			r.Unparsed++
		}
		if row.Negative != "" {
			r.Negative++
		}
		if parsed {
			key := row.Choice
			if row.Value != nil && q.Kind != string(YesNo) && q.Kind != string(Choice) {
				key = strconv.Itoa(*row.Value)
			}
			if q.Kind == string(FreeText) {
				key = "answered"
			}
			r.Distribution[key]++
			v := row.Value
			if q.Kind == string(YesNo) || q.Kind == string(Choice) {
				v = nil
			}
			get("all").add(q.Kind, v)
			get("day:"+row.AnsweredAt.In(loc).Format("2006-01-02")).add(q.Kind, v)
			get("tier:"+row.Tier).add(q.Kind, v)
			get("tz:"+row.Timezone).add(q.Kind, v)
			if row.Variant != nil {
				get("variant:"+strconv.Itoa(*row.Variant)).add(q.Kind, v)
			}
		} else {
			r.Distribution["unparsed"]++
		}
		if q.Kind == string(FreeText) || !parsed || row.Comment != "" {
			r.FreeText = append(r.FreeText, FreeAnswer{AskID: row.ID, ContactID: row.ContactID, ConversationID: row.ConversationID,
				Text: row.Text, Comment: row.Comment, Parsed: parsed, AnsweredAt: *row.AnsweredAt})
			if len(r.words) < analytics.TopicTexts {
				words := row.Comment
				if q.Kind == string(FreeText) || !parsed {
					words = strings.TrimSpace(row.Text + " " + row.Comment)
				}
				r.words = append(r.words, analytics.Text{ID: row.ID, Body: words})
			}
		}
	}
}

func (r *Results) finish(q store.Question) {
	r.QuestionID, r.Kind = q.ID, q.Kind
	if r.Distribution == nil {
		r.Distribution = map[string]int64{}
	}
	if r.Asked > 0 {
		r.ResponseRate = round2(float64(r.Responses) / float64(r.Asked))
	}
	r.Daily, r.ByTier, r.ByTimezone = []Group{}, map[string]Group{}, map[string]Group{}
	for k, a := range r.groups {
		switch {
		case k == "all":
			g := a.group(q.Kind, "")
			r.Mean, r.NPS, r.Promoters, r.Detractors = g.Mean, g.NPS, a.prom, a.det
			if q.Kind == string(NPS) {
				r.Passives = a.n - a.prom - a.det
			}
		case len(k) > 4 && k[:4] == "day:":
			r.Daily = append(r.Daily, a.group(q.Kind, k[4:]))
		case len(k) > 5 && k[:5] == "tier:":
			r.ByTier[k[5:]] = a.group(q.Kind, "")
		case len(k) > 3 && k[:3] == "tz:":
			r.ByTimezone[k[3:]] = a.group(q.Kind, "")
		case strings.HasPrefix(k, "variant:"):
			if r.ByVariant == nil {
				r.ByVariant = map[string]Group{}
			}
			r.ByVariant[k[len("variant:"):]] = a.group(q.Kind, "")
		}
	}
	r.Topics = analytics.Top(analytics.Count(r.words), analytics.Counts{}, TopicCount)
	if r.Topics == nil {
		r.Topics = []analytics.Topic{}
	}
	r.words = nil
	sort.Slice(r.Daily, func(i, j int) bool { return r.Daily[i].Key < r.Daily[j].Key })
	sort.Slice(r.FreeText, func(i, j int) bool { return r.FreeText[i].AskID > r.FreeText[j].AskID })
	if len(r.FreeText) > MaxFreeText {
		r.FreeText = r.FreeText[:MaxFreeText]
	}
	if r.FreeText == nil {
		r.FreeText = []FreeAnswer{}
	}
}

// ResultsOf computes a question's results for the asks of [from, to),
// reading them a page at a time.
func ResultsOf(ctx context.Context, st *store.Store, q store.Question, from, to time.Time, loc *time.Location) (Results, error) {
	var r Results
	var after int64
	for {
		rows, err := st.QuestionAnswers(ctx, q.ID, from, to, after, 5000)
		if err != nil {
			return r, err
		}
		r.add(q, rows, loc)
		if len(rows) < 5000 {
			break
		}
		after = rows[len(rows)-1].ID
	}
	r.finish(q)
	return r, nil
}
