package sheet

import (
	"slices"
	"testing"
)

func TestSafe(t *testing.T) {
	got := Safe([]string{"=HYPERLINK(\"x\")", "+1 555", "-2", "@SUM(A1)", "\tx", "plain", "", "a=b"})
	want := []string{"'=HYPERLINK(\"x\")", "'+1 555", "'-2", "'@SUM(A1)", "'\tx", "plain", "", "a=b"}
	if !slices.Equal(got, want) {
		t.Errorf("Safe = %q, want %q", got, want)
	}
}
