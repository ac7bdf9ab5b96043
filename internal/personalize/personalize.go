// Package personalize fills a text with what Parley knows about a contact.
// Canned responses use it today; auto-replies, campaigns and triggers will
// share the same data model ({{.FirstName}}, {{.Attributes.tier}}).
package personalize

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
)

// Data is what a template sees.
type Data struct {
	Name       string
	FirstName  string
	Phone      string
	LoyaltyID  string
	Attributes map[string]any
}

// MaxOutput bounds a rendered text (10 SMS segments of UCS-2 and then some).
const MaxOutput = 1600

// ErrTooLong is returned when a template renders more than MaxOutput bytes.
var ErrTooLong = errors.New("the text is longer than 1600 characters")

// NewData builds Data from a contact's fields.
func NewData(name, phone, loyaltyID string, attrs map[string]any) Data {
	first, _, _ := strings.Cut(strings.TrimSpace(name), " ")
	if attrs == nil {
		attrs = map[string]any{}
	}
	return Data{Name: strings.TrimSpace(name), FirstName: first, Phone: phone, LoyaltyID: loyaltyID, Attributes: attrs}
}

// Parse checks that body is a usable template: it parses, and calls no
// function (only fields, variables, if, range and with), so a template cannot
// do more than fill in what Parley knows about the contact.
func Parse(body string) (*template.Template, error) {
	t, err := template.New("text").Option("missingkey=zero").Parse(body)
	if err != nil {
		msg := err.Error()
		if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "template: ") && i >= 0 {
			msg = msg[i+2:]
		}
		return nil, fmt.Errorf("not a valid template: %s", msg)
	}
	if name := firstCall(t.Tree.Root); name != "" {
		return nil, fmt.Errorf("not a valid template: %q is a function; only fields such as {{.FirstName}} may be used", name)
	}
	return t, nil
}

// firstCall returns the name of the first function the template calls, "" if none.
func firstCall(n parse.Node) string {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Nodes {
			if f := firstCall(c); f != "" {
				return f
			}
		}
	case *parse.ActionNode:
		return firstCall(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Cmds {
			if f := firstCall(c); f != "" {
				return f
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if f := firstCall(a); f != "" {
				return f
			}
		}
	case *parse.IdentifierNode:
		return n.Ident
	case *parse.IfNode:
		return firstOf(n.Pipe, n.List, n.ElseList)
	case *parse.RangeNode:
		return firstOf(n.Pipe, n.List, n.ElseList)
	case *parse.WithNode:
		return firstOf(n.Pipe, n.List, n.ElseList)
	case *parse.TemplateNode:
		return "template"
	}
	return ""
}

func firstOf(p *parse.PipeNode, lists ...*parse.ListNode) string {
	if f := firstCall(p); f != "" {
		return f
	}
	for _, l := range lists {
		if l != nil {
			if f := firstCall(l); f != "" {
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
	var buf limited
	if err := t.Execute(&buf, d); err != nil {
		if errors.Is(err, ErrTooLong) {
			return "", ErrTooLong
		}
		return "", fmt.Errorf("the template could not be filled: %w", err)
	}
	return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
}

type limited struct{ bytes.Buffer }

func (l *limited) Write(p []byte) (int, error) {
	if l.Len()+len(p) > MaxOutput*4 {
		return 0, ErrTooLong
	}
	return l.Buffer.Write(p)
}
