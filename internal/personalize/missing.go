package personalize

import (
	"fmt"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// Missing lists the fields a template prints that d lacks (missing, empty
// or null), such as ".Attributes.favorite_dish": each renders as nothing,
// which a preview reports so that the marketer adds a default. A field
// given a fallback ({{default "there" .FirstName}}) or only tested ({{if
// .Attributes.vip}}) is never missing. Each field is listed once, in the
// order it appears.
func Missing(t *template.Template, d Data) []string {
	var out []string
	var walk func(n parse.Node)
	walkPipe := func(p *parse.PipeNode) {
		if p == nil {
			return
		}
		for _, cmd := range p.Cmds {
			if len(cmd.Args) > 0 {
				if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok && id.Ident == "default" {
					continue // the fallback covers it
				}
			}
			for _, a := range cmd.Args {
				f, ok := a.(*parse.FieldNode)
				if !ok {
					continue
				}
				name := "." + strings.Join(f.Ident, ".")
				if !present(f.Ident, d) && !slices.Contains(out, name) {
					out = append(out, name)
				}
			}
		}
	}
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walkPipe(n.Pipe)
		case *parse.IfNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.ElseList) // inside the body, dot is the tested value
		case *parse.RangeNode:
			walk(n.ElseList)
		}
	}
	if t != nil && t.Tree != nil {
		walk(t.Root)
	}
	return out
}

// present says whether the field path has a value in d.
func present(path []string, d Data) bool {
	if len(path) == 0 {
		return true
	}
	switch path[0] {
	case "Name":
		return d.Name != ""
	case "FirstName":
		return d.FirstName != ""
	case "Phone":
		return d.Phone != ""
	case "LoyaltyID":
		return d.LoyaltyID != ""
	case "Opens":
		return d.Opens != ""
	case "Attributes", "Event":
		m := d.Attributes
		if path[0] == "Event" {
			m = d.Event
		}
		if len(path) == 1 {
			return len(m) > 0
		}
		var v any = m
		for _, k := range path[1:] {
			m, ok := v.(map[string]any)
			if !ok {
				return false
			}
			if v, ok = m[k]; !ok || v == nil {
				return false
			}
		}
		return fmt.Sprint(v) != ""
	}
	return true
}
