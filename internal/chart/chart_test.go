package chart

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

const xss = `<script>alert(1)</script>"'&`

// parse checks svg is well-formed XML and counts its elements by name and
// collects its text.
func parse(t *testing.T, svg string) (map[string]int, string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	counts := map[string]int{}
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			counts[v.Name.Local]++
		case xml.CharData:
			text.Write(v)
		}
	}
	return counts, text.String()
}

func TestLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		line    Line
		points  int
		links   int
		lines   int
		inTitle string
	}{
		{"two series", Line{Title: "Volume", Labels: []string{"d1", "d2", "d3"},
			Series: []Series{{Name: "in", Values: []float64{1, 5, 2}}, {Name: "out", Values: []float64{0, 3, 9}}},
			Hrefs:  []string{"/a?day=1", "", "/a?day=3&x=<y>"}}, 6, 4, 2, "Volume"},
		{"one label", Line{Title: "One", Labels: []string{"d1"}, Series: []Series{{Name: "in", Values: []float64{4}}}}, 1, 0, 0, "One"},
		{"empty", Line{Title: "None"}, 0, 0, 0, "None"},
		{"hostile names", Line{Title: xss, Labels: []string{xss, "b"}, Series: []Series{{Name: xss, Class: `x" onload="y`, Values: []float64{1, 2}}}},
			2, 0, 1, xss},
		{"many labels", Line{Title: "Hours", Labels: make([]string, 200), Series: []Series{{Name: "in", Values: make([]float64, 200)}}},
			200, 0, 1, "Hours"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svg := tc.line.SVG()
			counts, text := parse(t, svg)
			if counts["circle"] != tc.points || counts["a"] != tc.links || counts["polyline"] != tc.lines {
				t.Fatalf("%d points, %d links, %d lines; want %d, %d, %d", counts["circle"], counts["a"], counts["polyline"], tc.points, tc.links, tc.lines)
			}
			if !strings.HasPrefix(svg, `<svg xmlns="http://www.w3.org/2000/svg" viewBox=`) || !strings.Contains(svg, `role="img"`) {
				t.Fatalf("not a responsive, named image: %.200s", svg)
			}
			if !strings.Contains(text, tc.inTitle) {
				t.Fatalf("title %q not in the text %q", tc.inTitle, text)
			}
			if strings.Contains(svg, "<script") || strings.Contains(svg, `onload="`) {
				t.Fatalf("markup from a name got through: %s", svg)
			}
		})
	}
}

func TestLineLabelsThinned(t *testing.T) {
	t.Parallel()
	labels := make([]string, 31)
	for i := range labels {
		labels[i] = "L" + string(rune('A'+i))
	}
	svg := Line{Title: "Month", Labels: labels, Series: []Series{{Name: "in", Values: make([]float64, 31)}}}.SVG()
	n := strings.Count(svg, `text-anchor="middle"`)
	if n > maxXLabels+1 || n < 2 || !strings.Contains(svg, ">L"+string(rune('A'+30))+"<") {
		t.Fatalf("%d x labels (want at most %d, the last among them)", n, maxXLabels+1)
	}
}

func TestBars(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		bars  Bars
		rects int
		links int
	}{
		{"bands", Bars{Title: "First response", Bars: []Bar{{"0-5m", 3, "/x"}, {"5-15m", 1, ""}, {">4h", 0, ""}}}, 3, 1},
		{"empty", Bars{Title: "None"}, 0, 0},
		{"hostile", Bars{Title: xss, Class: `"><script>`, Bars: []Bar{{xss, 2, `javascript:"><x`}, {"b", 1, "//elsewhere"}}}, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			svg := tc.bars.SVG()
			counts, text := parse(t, svg)
			if counts["rect"] != tc.rects || counts["a"] != tc.links {
				t.Fatalf("%d bars, %d links; want %d, %d", counts["rect"], counts["a"], tc.rects, tc.links)
			}
			if strings.Contains(svg, "<script") || strings.Contains(svg, `"><x`) {
				t.Fatalf("markup got through: %s", svg)
			}
			if tc.name == "hostile" && !strings.Contains(text, xss) {
				t.Fatalf("the label is not kept as text: %q", text)
			}
		})
	}
}

func TestScale(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ max, top, step float64 }{
		{0, 1, 1}, {0.5, 1, 1}, {1, 1, 1}, {3, 3, 1}, {5, 5, 1}, {7, 8, 2}, {10, 10, 2}, {23, 25, 5},
		{48, 50, 10}, {180, 200, 50}, {201, 250, 50}, {999, 1000, 200},
	} {
		if top, step := Scale(tc.max); top != tc.top || step != tc.step {
			t.Errorf("Scale(%v) = %v, %v; want %v, %v", tc.max, top, step, tc.top, tc.step)
		}
		if top, step := Scale(tc.max); top/step > maxTicks {
			t.Errorf("Scale(%v): %v steps", tc.max, top/step)
		}
	}
}
