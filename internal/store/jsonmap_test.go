package store

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The hand-written encoder must mean exactly what json.Marshal's output means.
func TestAppendJSONObjectRoundTrips(t *testing.T) {
	t.Parallel()
	cases := []map[string]string{
		nil,
		{},
		{"ToCity": "SAN FRANCISCO", "FromZip": "10001", "ApiVersion": "2010-04-01"},
		{"a\"b": "c\\d", "nl": "x\ny\r\tz", "ctl": "\x01\x1f\x7f", "html": "<a href='x'>&</a>"},
		{"emoji": "héllo 👋 ü", "sep": "a\u2028b\u2029c", "": ""},
		{"bad": "a\xffb", "ok": "fine"},
	}
	for _, m := range cases {
		got := appendJSONObject(nil, m)
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%q: output %s is not JSON: %v", m, got, err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%q: got %s, json.Marshal gives %s", m, got, want)
		}
	}
}
