package devphone_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
)

// The simulator texts the brand through the real signed webhook and shows the
// brand's answer.
func TestSimulatorRoundTrip(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{DevPhone: true})
	if code, page := apptest.Get(t, env.PublicURL+"/dev/phone?phone=%2B12125550177"); code != 200 || !strings.Contains(page, "12125550177") {
		t.Fatalf("page: %d", code)
	}
	resp, err := http.Post(env.PublicURL+"/dev/phone/send", "application/json", strings.NewReader(`{"phone":"(212) 555-0177","body":"HELP"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("send: %d", resp.StatusCode)
	}
	var got struct {
		Data []struct{ Direction, Body string }
	}
	apptest.WaitFor(t, 5*time.Second, "the HELP answer", func() bool {
		_, body := apptest.Get(t, env.PublicURL+"/dev/phone/messages?phone="+url.QueryEscape("+12125550177"))
		_ = json.Unmarshal([]byte(body), &got)
		return len(got.Data) == 2
	})
	if got.Data[0].Direction != "inbound" || got.Data[0].Body != "HELP" || got.Data[1].Direction != "outbound" || !strings.Contains(got.Data[1].Body, "Demo Air") {
		t.Fatalf("thread %+v", got.Data)
	}
	resp, err = http.Post(env.PublicURL+"/dev/phone/send", "application/json", strings.NewReader(`{"phone":"12","body":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "invalid_phone") {
		t.Fatalf("bad phone: %d %s", resp.StatusCode, b)
	}
}
