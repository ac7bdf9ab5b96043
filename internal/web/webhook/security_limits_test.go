package webhook_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/web/webhook"
)

// sendHuge posts a 10 MB form to path over a raw connection, 16 KiB at a
// time with a pause between pieces, declared in Content-Length or sent
// chunked, and returns the answer's status and how many body bytes had
// been sent when the answer came: far fewer than 10 MB means the server
// refused without reading it all.
func sendHuge(t *testing.T, env *apptest.Env, path string, chunked bool) (int, int) {
	t.Helper()
	const total = 10 << 20
	u, _ := url.Parse(env.PublicURL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: x\r\n", path, u.Host)
	if chunked {
		head += "Transfer-Encoding: chunked\r\n\r\n"
	} else {
		head += fmt.Sprintf("Content-Length: %d\r\n\r\n", total)
	}
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	piece := append([]byte("Body="), bytes.Repeat([]byte("x"), 16<<10-5)...)
	sent := 0
	for sent < total {
		select {
		case code := <-answered:
			return code, sent
		case <-time.After(2 * time.Millisecond):
		}
		out := piece
		if chunked {
			out = append([]byte(fmt.Sprintf("%x\r\n", len(piece))), append(piece, "\r\n"...)...)
		}
		_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write(out); err != nil {
			break // the server closed the connection
		}
		sent += len(piece)
	}
	select {
	case code := <-answered:
		return code, sent
	case <-time.After(10 * time.Second):
		t.Fatalf("POST %s: no answer after %d bytes", path, sent)
		return 0, sent
	}
}

// A 10 MB webhook body, declared or chunked, is refused with 413 long
// before its end, on both webhook routes, and stores nothing; the server
// still answers the next text.
func TestSecurityWebhookHugeBody(t *testing.T) {
	env := setup(t)
	for _, path := range []string{smsPath, "/webhooks/twilio/status"} {
		for _, chunked := range []bool{false, true} {
			code, sent := sendHuge(t, env, path, chunked)
			if code != http.StatusRequestEntityTooLarge {
				t.Errorf("POST %s with 10 MB (chunked %v): %d, want 413", path, chunked, code)
			}
			// The server reads at most MaxBody; allow for what the
			// connection buffers while the answer is on its way.
			if sent > 5<<20 {
				t.Errorf("POST %s with 10 MB (chunked %v): answered after %d bytes, want well before the end", path, chunked, sent)
			}
			t.Logf("POST %s, 10 MB (chunked %v): answered after %d bytes (the limit is %d)", path, chunked, sent, webhook.MaxBody)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM messages`) + env.Count(t, `SELECT count(*) FROM contacts`); n != 0 {
		t.Fatalf("the huge bodies stored %d rows", n)
	}
	if code, body := env.PostForm(t, smsPath, apptest.Inbound("SM"+strings.Repeat("5", 32), "+14155550155", "after")); code != http.StatusOK {
		t.Fatalf("a text after the huge bodies: %d %s", code, body)
	}
}
