package logging

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestPhonesAreMasked(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := New(&buf, slog.LevelInfo)
	log.Info("inbound", "from", "+14155550123", "to", "+15005550006", "phone", "+442079460958", "sid", "SM1")
	out := buf.String()
	for _, full := range []string{"+14155550123", "+15005550006", "+442079460958"} {
		if strings.Contains(out, full) {
			t.Fatalf("log line holds the full number %s: %s", full, out)
		}
	}
	if !strings.Contains(out, `"from":"+1415***0123"`) || !strings.Contains(out, `"sid":"SM1"`) {
		t.Fatalf("unexpected log line: %s", out)
	}
}
