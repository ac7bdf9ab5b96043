// Package campaign runs opt-in campaigns: who they reach (audiences and
// saved segments), what each recipient is sent (personalised variants,
// tracked links), when (now, at a time, or at a local time of each
// recipient's day) and exactly once, through the delivery engine, which
// still applies consent, quiet hours and the frequency cap to every text.
package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
)

// Audience is the audience document of the API and the console. Every
// filter narrows; with contact_ids or phones the audience is that list;
// with segment_id it is the saved segment's filter, read when the campaign
// starts. An empty document is every phone opted in to the brand's
// marketing.
type Audience struct {
	SegmentID          int64                    `json:"segment_id,omitempty"`
	ContactIDs         []int64                  `json:"contact_ids,omitempty"`
	Phones             []string                 `json:"phones,omitempty"`
	Attributes         map[string]AttrCondition `json:"attributes,omitempty"`
	Tiers              []string                 `json:"tiers,omitempty"`
	Labels             []string                 `json:"labels,omitempty"`
	Timezones          []string                 `json:"timezones,omitempty"`
	LastInboundAfter   string                   `json:"last_inbound_after,omitempty"`
	LastInboundBefore  string                   `json:"last_inbound_before,omitempty"`
	LastOutboundAfter  string                   `json:"last_outbound_after,omitempty"`
	LastOutboundBefore string                   `json:"last_outbound_before,omitempty"`
	MinActiveDays      int                      `json:"min_active_days,omitempty"`
	// MinEngagement keeps people whose engagement score (0–100, the
	// power-users ranking) is at least this.
	MinEngagement int    `json:"min_engagement,omitempty"`
	OptedInAfter  string `json:"opted_in_after,omitempty"`
}

// AttrCondition is what one attribute must satisfy: eq (a value), in (a
// list), gt/gte/lt/lte (numbers; two make a range), exists (true: has a
// value, false: has none).
type AttrCondition struct {
	Eq     any      `json:"eq,omitempty"`
	In     []any    `json:"in,omitempty"`
	Gt     *float64 `json:"gt,omitempty"`
	Gte    *float64 `json:"gte,omitempty"`
	Lt     *float64 `json:"lt,omitempty"`
	Lte    *float64 `json:"lte,omitempty"`
	Exists *bool    `json:"exists,omitempty"`
}

// FieldError is bad input naming the field.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Limits of an audience document.
const (
	MaxListed     = 100_000 // contact ids or phones
	MaxConditions = 50
)

// ParseAudience reads and checks an audience document (field names in
// errors are prefixed with prefix, e.g. "audience."). Listed phones are
// normalised to E.164 in place, those written without a country as numbers
// of country (the brand's default).
func ParseAudience(raw []byte, prefix, country string) (Audience, error) {
	var a Audience
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return a, nil
	}
	// The attribute conditions are read one by one, so an error names its
	// attribute.
	var top struct {
		Audience
		Attributes map[string]json.RawMessage `json:"attributes,omitempty"`
	}
	if err := strictDecode(raw, &top, prefix); err != nil {
		return a, err
	}
	a = top.Audience
	if len(top.Attributes) > 0 {
		a.Attributes = map[string]AttrCondition{}
		for k, v := range top.Attributes {
			var c AttrCondition
			if err := strictDecode(v, &c, prefix+"attributes."+k+"."); err != nil {
				return a, err
			}
			a.Attributes[k] = c
		}
	}
	for i, p := range a.Phones[:min(len(a.Phones), MaxListed)] { // Compile refuses a longer list
		e, err := contact.NormalizePhone(p, country)
		if err != nil {
			return a, fieldErr(fmt.Sprintf("%sphones[%d]", prefix, i), "%q is not a phone number: %v", p, err)
		}
		a.Phones[i] = e
	}
	_, err := a.Compile(prefix, time.Now())
	return a, err
}

// Compile checks the audience and turns it into the store's query terms.
// Phones are normalised to E.164 (ParseAudience has read those written
// without a country); a segment id is left to the caller.
func (a Audience) Compile(prefix string, now time.Time) (store.Audience, error) {
	var out store.Audience
	if len(a.ContactIDs) > MaxListed {
		return out, fieldErr(prefix+"contact_ids", "at most %d people per audience", MaxListed)
	}
	if len(a.Phones) > MaxListed {
		return out, fieldErr(prefix+"phones", "at most %d people per audience", MaxListed)
	}
	if a.SegmentID != 0 && !a.onlySegment() {
		return out, fieldErr(prefix+"segment_id", "a segment is the whole audience: put the other filters in the segment")
	}
	if len(a.ContactIDs) > 0 && len(a.Phones) > 0 {
		return out, fieldErr(prefix+"phones", "give contact_ids or phones, not both")
	}
	if a.SegmentID != 0 && (len(a.ContactIDs) > 0 || len(a.Phones) > 0) {
		return out, fieldErr(prefix+"segment_id", "a segment cannot be combined with a list of people")
	}
	for i, id := range a.ContactIDs {
		if id <= 0 {
			return out, fieldErr(fmt.Sprintf("%scontact_ids[%d]", prefix, i), "%d is not a contact id", id)
		}
	}
	out.ContactIDs = a.ContactIDs
	seen := map[string]bool{}
	for i, p := range a.Phones {
		e, err := contact.NormalizeE164(p)
		if err != nil {
			return out, fieldErr(fmt.Sprintf("%sphones[%d]", prefix, i), "%q is not a phone number: %v", p, err)
		}
		if !seen[e] {
			seen[e] = true
			out.Phones = append(out.Phones, e)
		}
	}
	if len(a.Attributes) > MaxConditions {
		return out, fieldErr(prefix+"attributes", "at most %d attribute conditions", MaxConditions)
	}
	keys := make([]string, 0, len(a.Attributes))
	for k := range a.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := a.Attributes[k]
		field := prefix + "attributes." + k
		if strings.TrimSpace(k) == "" || len(k) > 100 {
			return out, fieldErr(field, "an attribute name is 1 to 100 characters")
		}
		n := 0
		if c.Eq != nil {
			s, err := scalar(c.Eq)
			if err != nil {
				return out, fieldErr(field+".eq", "%v", err)
			}
			out.Attributes = append(out.Attributes, store.AttrFilter{Key: k, Op: "eq", Values: []string{s}})
			n++
		}
		if c.In != nil {
			if len(c.In) == 0 || len(c.In) > 1000 {
				return out, fieldErr(field+".in", "give 1 to 1000 values")
			}
			vals := make([]string, len(c.In))
			for i, v := range c.In {
				s, err := scalar(v)
				if err != nil {
					return out, fieldErr(fmt.Sprintf("%s.in[%d]", field, i), "%v", err)
				}
				vals[i] = s
			}
			out.Attributes = append(out.Attributes, store.AttrFilter{Key: k, Op: "in", Values: vals})
			n++
		}
		for _, r := range []struct {
			op string
			v  *float64
		}{{"gt", c.Gt}, {"gte", c.Gte}, {"lt", c.Lt}, {"lte", c.Lte}} {
			if r.v == nil {
				continue
			}
			if math.IsNaN(*r.v) || math.IsInf(*r.v, 0) {
				return out, fieldErr(field+"."+r.op, "not a number")
			}
			out.Attributes = append(out.Attributes, store.AttrFilter{Key: k, Op: r.op, Number: *r.v})
			n++
		}
		if c.Exists != nil {
			op := "exists"
			if !*c.Exists {
				op = "missing"
			}
			out.Attributes = append(out.Attributes, store.AttrFilter{Key: k, Op: op})
			n++
		}
		if n == 0 {
			return out, fieldErr(field, "give eq, in, gt, gte, lt, lte or exists")
		}
	}
	for i, t := range a.Timezones {
		if _, err := time.LoadLocation(t); err != nil || t == "" || t == "Local" {
			return out, fieldErr(fmt.Sprintf("%stimezones[%d]", prefix, i), "%q is not a time zone", t)
		}
	}
	out.Tiers, out.Labels, out.Timezones = a.Tiers, a.Labels, a.Timezones
	for _, d := range []struct {
		field, v string
		to       **time.Time
	}{
		{"last_inbound_after", a.LastInboundAfter, &out.LastInboundAfter},
		{"last_inbound_before", a.LastInboundBefore, &out.LastInboundBefore},
		{"last_outbound_after", a.LastOutboundAfter, &out.LastOutboundAfter},
		{"last_outbound_before", a.LastOutboundBefore, &out.LastOutboundBefore},
		{"opted_in_after", a.OptedInAfter, &out.OptedInAfter},
	} {
		if d.v == "" {
			continue
		}
		t, err := parseWhen(d.v)
		if err != nil {
			return out, fieldErr(prefix+d.field, "%q is not a date (YYYY-MM-DD) or an RFC 3339 time", d.v)
		}
		*d.to = &t
	}
	if a.MinActiveDays < 0 || a.MinActiveDays > 90 {
		return out, fieldErr(prefix+"min_active_days", "%d is out of range: 0 to 90", a.MinActiveDays)
	}
	out.MinActiveDays = a.MinActiveDays
	if a.MinEngagement < 0 || a.MinEngagement > 100 {
		return out, fieldErr(prefix+"min_engagement", "%d is out of range: 0 to 100", a.MinEngagement)
	}
	out.MinEngagement = a.MinEngagement
	return out, nil
}

func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case float64:
		// as Postgres writes a JSON number as text (->>)
		b, _ := json.Marshal(x)
		return string(b), nil
	}
	return "", fmt.Errorf("a value is a string, a number or true/false")
}

func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

// strictDecode reads one JSON object refusing unknown fields, naming the
// field (prefix + name) in the error.
func strictDecode(raw []byte, v any, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return fieldErr(prefix+strings.Trim(name, `"`), "is not a known filter")
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fieldErr(prefix+te.Field, "should be %s", te.Type.String())
		}
		return fieldErr(strings.TrimSuffix(prefix, "."), "not valid: %v", err)
	}
	return nil
}

// onlySegment says whether the audience names a segment and nothing else.
func (a Audience) onlySegment() bool {
	b := a
	b.SegmentID = 0
	raw, _ := json.Marshal(b)
	return string(raw) == "{}"
}
