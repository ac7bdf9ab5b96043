// Package personalize fills a text with what Parley knows about a contact.
// Canned responses use it today; auto-replies, campaigns and triggers will
// share the same data model ({{.FirstName}}, {{.Attributes.tier}}).
package personalize

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// Data is what a template sees.
type Data struct {
	Name       string
	FirstName  string
	Phone      string
	LoyaltyID  string
	Attributes map[string]any
	// Event is the data of the event a trigger answers ({{.Event.flight}}).
	Event map[string]any
	// Opens is when the brand opens next, in the customer's words ("from
	// 9:00 tomorrow"); set only for after-hours acknowledgements.
	Opens string
}

// MaxOutput bounds a rendered text (10 SMS segments of UCS-2 and then some).
const MaxOutput = 1600

// ErrTooLong is returned when a template renders more than MaxOutput bytes.
var ErrTooLong = errors.New("the text is longer than 1600 characters")

// MaxRenderTime bounds one rendering.
const MaxRenderTime = 100 * time.Millisecond

// ErrTooSlow is returned when a rendering runs past MaxRenderTime.
var ErrTooSlow = errors.New("the template takes too long to fill in")

// NewData builds Data from a contact's fields.
func NewData(name, phone, loyaltyID string, attrs map[string]any) Data {
	first, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	if attrs == nil {
		attrs = map[string]any{}
	}
	return Data{Name: strings.TrimSpace(name), FirstName: first, Phone: phone, LoyaltyID: loyaltyID, Attributes: attrs}
}

// funcs are the only functions a template may call: {{default "there"
// .FirstName}}, {{title .Attributes.city}} ("new york" → "New York") and
// {{number .Attributes.points}} (12500 → "12,500").
var funcs = template.FuncMap{"default": fallback, "title": title, "number": number}

// linkFunc is {{link "https://…"}}, allowed in campaign texts only
// (ParseWithLinks); outside a Renderer it leaves the address as written.
const linkFunc = "link"

func title(v any) string {
	s, ok := v.(string)
	if !ok {
		if v == nil {
			return ""
		}
		s = fmt.Sprint(v)
	}
	return cases.Title(language.Und).String(strings.ToLower(s))
}

// number writes a number with thousands separators and at most two
// decimals; anything else as it is.
func number(v any) string {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case string:
		g, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return x
		}
		f = g
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
	neg := f < 0
	if neg {
		f = -f
	}
	whole := strconv.FormatFloat(f, 'f', 2, 64)
	intPart, frac, _ := strings.Cut(whole, ".")
	frac = strings.TrimRight(frac, "0")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// fallback is {{default "there" .FirstName}}: the field, or the fallback
// when the contact lacks it (missing, empty or zero).
func fallback(def any, v any) any {
	switch x := v.(type) {
	case nil:
		return def
	case string:
		if strings.TrimSpace(x) == "" {
			return def
		}
	case bool:
		if !x {
			return def
		}
	case float64:
		if x == 0 {
			return def
		}
	}
	return v
}

// Parse checks that body is a usable template: it parses, and calls no
// function but default (only fields, variables, if, range and with), so a
// template cannot do more than fill in what Parley knows about the contact.
func Parse(body string) (*template.Template, error) {
	return parse1(body, false)
}

// ParseWithLinks is Parse that also allows {{link "https://…"}} (campaign
// texts): the address must be a quoted http or https URL.
func ParseWithLinks(body string) (*template.Template, error) {
	return parse1(body, true)
}

func parse1(body string, links bool) (*template.Template, error) {
	fm := funcs
	if links {
		fm = template.FuncMap{linkFunc: func(u string) string { return u }}
		for k, v := range funcs {
			fm[k] = v
		}
	}
	t, err := template.New("text").Option("missingkey=zero").Funcs(fm).Parse(body)
	if err != nil {
		msg := err.Error()
		if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "template: ") && i >= 0 {
			msg = msg[i+2:]
		}
		return nil, fmt.Errorf("not a valid template: %s", msg)
	}
	if name := firstCall(t.Root, links); name != "" {
		return nil, fmt.Errorf("not a valid template: %q is a function; only fields such as {{.FirstName}} may be used", name)
	}
	if links {
		if err := checkLinks(t.Root); err != nil {
			return nil, err
		}
	}
	if len(t.Templates()) > 1 {
		return nil, errors.New("not a valid template: define and block are not allowed")
	}
	if err := checkRanges(t.Root, false); err != nil {
		return nil, err
	}
	return t, nil
}

// checkRanges allows range only over a field or variable ({{range
// .Attributes.items}}), never over a number or other constant, and never a
// range inside another: so a template's work is bounded by the contact's own
// data, once.
func checkRanges(n parse.Node, inRange bool) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkRanges(c, inRange); err != nil {
				return err
			}
		}
	case *parse.IfNode:
		return checkBranches(inRange, n.List, n.ElseList)
	case *parse.WithNode:
		return checkBranches(inRange, n.List, n.ElseList)
	case *parse.RangeNode:
		if inRange {
			return errors.New("not a valid template: a range inside a range is not allowed")
		}
		if !rangesOverField(n.Pipe) {
			return errors.New("not a valid template: range may only go over a field, such as {{range .Attributes.items}}")
		}
		return checkBranches(true, n.List, n.ElseList)
	}
	return nil
}

func checkBranches(inRange bool, lists ...*parse.ListNode) error {
	for _, l := range lists {
		if l != nil {
			if err := checkRanges(l, inRange); err != nil {
				return err
			}
		}
	}
	return nil
}

func rangesOverField(p *parse.PipeNode) bool {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	switch p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode, *parse.VariableNode, *parse.DotNode, *parse.ChainNode:
		return true
	}
	return false
}

// firstCall returns the name of the first function the template calls, "" if none.
func firstCall(n parse.Node, links bool) string {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Nodes {
			if f := firstCall(c, links); f != "" {
				return f
			}
		}
	case *parse.ActionNode:
		return firstCall(n.Pipe, links)
	case *parse.PipeNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Cmds {
			if f := firstCall(c, links); f != "" {
				return f
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if f := firstCall(a, links); f != "" {
				return f
			}
		}
	case *parse.IdentifierNode:
		if _, ok := funcs[n.Ident]; ok || (links && n.Ident == linkFunc) {
			return ""
		}
		return n.Ident
	case *parse.IfNode:
		return firstOf(links, n.Pipe, n.List, n.ElseList)
	case *parse.RangeNode:
		return firstOf(links, n.Pipe, n.List, n.ElseList)
	case *parse.WithNode:
		return firstOf(links, n.Pipe, n.List, n.ElseList)
	case *parse.TemplateNode:
		return "template"
	}
	return ""
}

func firstOf(links bool, p *parse.PipeNode, lists ...*parse.ListNode) string {
	if f := firstCall(p, links); f != "" {
		return f
	}
	for _, l := range lists {
		if l != nil {
			if f := firstCall(l, links); f != "" {
				return f
			}
		}
	}
	return ""
}

// Render fills body with d. A missing attribute renders as nothing.
func Render(body string, d Data) (string, error) {
	t, err := Parse(body)
	if err != nil {
		return "", err
	}
	return Execute(t, d)
}

// Execute fills a template Parse returned with d, under the same bounds as
// Render: for callers that parse once and fill often.
func Execute(t *template.Template, d Data) (string, error) {
	buf := limited{deadline: time.Now().Add(MaxRenderTime)}
	if err := t.Execute(&buf, d); err != nil {
		if errors.Is(err, ErrTooLong) {
			return "", ErrTooLong
		}
		if errors.Is(err, ErrTooSlow) {
			return "", ErrTooSlow
		}
		return "", fmt.Errorf("the template could not be filled: %w", err)
	}
	return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
}

// limited bounds what one execution writes, and how long it may go on
// writing.
type limited struct {
	bytes.Buffer
	deadline time.Time
}

func (l *limited) Write(p []byte) (int, error) {
	if l.Len()+len(p) > MaxOutput*4 {
		return 0, ErrTooLong
	}
	if time.Now().After(l.deadline) {
		return 0, ErrTooSlow
	}
	return l.Buffer.Write(p)
}

// checkLinks: every {{link}} is given exactly one quoted http(s) address.
func checkLinks(n parse.Node) error {
	var bad error
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		if bad != nil || n == nil {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			if id, ok := n.Args[0].(*parse.IdentifierNode); ok && id.Ident == linkFunc {
				if len(n.Args) != 2 {
					bad = errors.New(`not a valid template: link takes one address, as in {{link "https://example.com/offer"}}`)
					return
				}
				str, ok := n.Args[1].(*parse.StringNode)
				web := ok && (strings.HasPrefix(str.Text, "https://") || strings.HasPrefix(str.Text, "http://"))
				if !web || strings.ContainsAny(str.Text, " \t\n") {
					bad = errors.New(`not a valid template: link needs a quoted http or https address, as in {{link "https://example.com/offer"}}`)
					return
				}
			}
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		}
	}
	walk(n)
	return bad
}

// Renderer fills one campaign template for many recipients in turn, giving
// each {{link}} the address the caller chooses for that recipient (a
// tracked short link). Not safe for concurrent use: one per goroutine.
type Renderer struct {
	t    *template.Template
	link func(string) string
}

// NewRenderer returns a renderer of t (from ParseWithLinks).
func NewRenderer(t *template.Template) (*Renderer, error) {
	c, err := t.Clone()
	if err != nil {
		return nil, err
	}
	r := &Renderer{t: c}
	c.Funcs(template.FuncMap{linkFunc: func(u string) string {
		if r.link == nil {
			return u
		}
		return r.link(u)
	}})
	return r, nil
}

// Render fills the template with d; link (nil: leave addresses as they
// are) turns each {{link}} address into the one to send.
func (r *Renderer) Render(d Data, link func(string) string) (string, error) {
	r.link = link
	defer func() { r.link = nil }()
	return Execute(r.t, d)
}

// Missing is Missing for the renderer's template.
func (r *Renderer) Missing(d Data) []string { return Missing(r.t, d) }
