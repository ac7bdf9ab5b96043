// Package chart draws the console's charts as SVG on the server: a line
// chart of several series over the same labels and a bar chart of one
// distribution. The markup needs no script and no inline style (colours
// come from the console's stylesheet through class names), scales with its
// container through its viewBox, names itself for screen readers, and can
// make each point or bar a link. Every text it writes is escaped.
package chart

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Size of the drawing in viewBox units; the page scales it to its width.
const (
	width      = 640
	height     = 260
	padLeft    = 48
	padRight   = 40 // room for the last x label, centred on the last point
	padTop     = 12
	padBottom  = 44
	maxXLabels = 8
	maxTicks   = 5
)

// Series is one line: its name (in the legend and each point's title), a
// class for its colour ("series-0"), and one value per label.
type Series struct {
	Name   string
	Class  string
	Values []float64
}

// Line is a line chart: labels along the x axis, series over them, and
// optionally one link per label (Hrefs[i] is where label i's points lead;
// "" for none).
type Line struct {
	Title  string
	Labels []string
	Series []Series
	Hrefs  []string
}

// Bar is one bar of a distribution.
type Bar struct {
	Label string
	Value float64
	Href  string
}

// Bars is a bar chart of one distribution.
type Bars struct {
	Title string
	Class string
	Bars  []Bar
}

// esc escapes s for SVG text and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// class keeps of s only what a class name may hold (letters, digits, - and
// _), so a caller's name never breaks out of the attribute.
func class(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '-' || r == '_' || r == ' ' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// num writes a coordinate without needless digits.
func num(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", v), "0"), ".")
}

// value writes a figure as people read it: whole numbers without decimals.
func value(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.1f", v)
}

// Scale is the y axis for a largest value of max: a step of 1, 2 or 5
// times a power of ten (at least 1: the figures are counts) and a top that
// is a whole number of steps, so the axis has at most maxTicks steps on
// round numbers.
func Scale(max float64) (top, step float64) {
	if max <= 1 || math.IsNaN(max) || math.IsInf(max, 0) {
		return 1, 1
	}
	raw := max / maxTicks
	step = 1
	if raw > 1 {
		p := math.Pow(10, math.Floor(math.Log10(raw)))
		step = 10 * p
		for _, m := range []float64{1, 2, 5} {
			if m*p >= raw {
				step = m * p
				break
			}
		}
	}
	return step * math.Ceil(max/step), step
}

// open starts the svg element with its accessible name.
func open(b *strings.Builder, kind, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" class="chart chart-%s" role="img" aria-label="%s" preserveAspectRatio="xMidYMid meet">`,
		width, height, kind, esc(title))
	fmt.Fprintf(b, `<title>%s</title>`, esc(title))
}

// yAxis draws the horizontal grid lines and their figures up to top.
func yAxis(b *strings.Builder, top, step float64) {
	plotH := float64(height - padTop - padBottom)
	b.WriteString(`<g class="axis y">`)
	n := int(math.Round(top / step))
	for i := 0; i <= n; i++ {
		v := step * float64(i)
		y := float64(height-padBottom) - plotH*v/top
		fmt.Fprintf(b, `<line class="grid" x1="%d" x2="%d" y1="%s" y2="%s"/>`, padLeft, width-padRight, num(y), num(y))
		fmt.Fprintf(b, `<text x="%d" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>`, padLeft-6, num(y), esc(value(v)))
	}
	b.WriteString(`</g>`)
}

// xLabel draws label i of n centred at x, only every so many so that at
// most maxXLabels are written (the first and last always).
func xLabel(b *strings.Builder, label string, i, n int, x float64) {
	step := (n + maxXLabels - 1) / maxXLabels
	// The last always; every step-th unless it would crowd the last.
	if show := i == n-1 || (i%step == 0 && n-1-i >= (step+1)/2); step > 1 && !show {
		return
	}
	fmt.Fprintf(b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`, num(x), height-padBottom+16, esc(label))
}

// link wraps inner in an <a> to href, or returns it as it is without one.
// Only a path of this site ("/…", not "//…") is a link: a chart never
// leads elsewhere, nor to a javascript: URL.
func link(href, inner string) string {
	if !strings.HasPrefix(href, "/") || strings.HasPrefix(href, "//") {
		return inner
	}
	return `<a href="` + esc(href) + `">` + inner + `</a>`
}

// SVG draws the line chart. Each point is a circle with a title naming its
// label, series and value, and a link when the label has one.
func (l Line) SVG() string {
	var b strings.Builder
	open(&b, "line", l.Title)
	maxV := 0.0
	for _, s := range l.Series {
		for _, v := range s.Values {
			maxV = math.Max(maxV, v)
		}
	}
	top, step := Scale(maxV)
	yAxis(&b, top, step)
	n := len(l.Labels)
	plotW := float64(width - padLeft - padRight)
	plotH := float64(height - padTop - padBottom)
	xOf := func(i int) float64 {
		if n <= 1 {
			return padLeft + plotW/2
		}
		return padLeft + plotW*float64(i)/float64(n-1)
	}
	yOf := func(v float64) float64 { return float64(height-padBottom) - plotH*math.Max(v, 0)/top }
	b.WriteString(`<g class="axis x">`)
	for i, lb := range l.Labels {
		xLabel(&b, lb, i, n, xOf(i))
	}
	b.WriteString(`</g>`)
	for si, s := range l.Series {
		cls := class(s.Class)
		if cls == "" {
			cls = fmt.Sprintf("series-%d", si)
		}
		fmt.Fprintf(&b, `<g class="series %s">`, cls)
		pts := make([]string, 0, n)
		for i := 0; i < n && i < len(s.Values); i++ {
			pts = append(pts, num(xOf(i))+","+num(yOf(s.Values[i])))
		}
		if len(pts) > 1 {
			fmt.Fprintf(&b, `<polyline points="%s"/>`, strings.Join(pts, " "))
		}
		for i := 0; i < n && i < len(s.Values); i++ {
			href := ""
			if i < len(l.Hrefs) {
				href = l.Hrefs[i]
			}
			dot := fmt.Sprintf(`<circle class="point" cx="%s" cy="%s" r="3.5"><title>%s</title></circle>`,
				num(xOf(i)), num(yOf(s.Values[i])), esc(l.Labels[i]+" · "+s.Name+": "+value(s.Values[i])))
			b.WriteString(link(href, dot))
		}
		b.WriteString(`</g>`)
	}
	// The legend, under the axis labels.
	b.WriteString(`<g class="legend">`)
	x := float64(padLeft)
	for si, s := range l.Series {
		cls := class(s.Class)
		if cls == "" {
			cls = fmt.Sprintf("series-%d", si)
		}
		fmt.Fprintf(&b, `<g class="series %s"><rect x="%s" y="%d" width="10" height="10"/><text x="%s" y="%d">%s</text></g>`,
			cls, num(x), height-14, num(x+14), height-5, esc(s.Name))
		x += 14 + 8*float64(len([]rune(s.Name))) + 16
	}
	b.WriteString(`</g></svg>`)
	return b.String()
}

// SVG draws the bar chart: one bar per entry with its figure above it, a
// title naming its label and value, and a link when it has one.
func (c Bars) SVG() string {
	var b strings.Builder
	open(&b, "bars", c.Title)
	maxV := 0.0
	for _, br := range c.Bars {
		maxV = math.Max(maxV, br.Value)
	}
	top, step := Scale(maxV)
	yAxis(&b, top, step)
	n := len(c.Bars)
	plotW := float64(width - padLeft - padRight)
	plotH := float64(height - padTop - padBottom)
	cls := class(c.Class)
	if cls == "" {
		cls = "series-0"
	}
	fmt.Fprintf(&b, `<g class="series %s">`, cls)
	slot := plotW / math.Max(float64(n), 1)
	for i, br := range c.Bars {
		h := plotH * math.Max(br.Value, 0) / top
		x := padLeft + slot*float64(i) + slot*0.15
		y := float64(height-padBottom) - h
		bar := fmt.Sprintf(`<rect class="bar" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
			num(x), num(y), num(slot*0.7), num(h), esc(br.Label+": "+value(br.Value)))
		b.WriteString(link(br.Href, bar))
		fmt.Fprintf(&b, `<text class="figure" x="%s" y="%s" text-anchor="middle">%s</text>`, num(x+slot*0.35), num(y-4), esc(value(br.Value)))
	}
	b.WriteString(`</g><g class="axis x">`)
	for i, br := range c.Bars {
		xLabel(&b, br.Label, i, n, padLeft+slot*float64(i)+slot/2)
	}
	b.WriteString(`</g></svg>`)
	return b.String()
}
