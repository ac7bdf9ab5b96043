package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/contact"
)

const (
	agentEmail    = "ana@demo-air.example"
	agentPassword = "correct horse battery"
	xssBody       = `<script>alert(1)</script><img src=x onerror=alert(2)>`
)

// world is one Parley, one signed-in agent and one headless Chromium tab.
type world struct {
	env     *apptest.Env
	ctx     context.Context
	mu      sync.Mutex
	dialogs []string // JavaScript dialogs that opened (there must be none)
	logs    []string // console messages and exceptions, shown on failure
}

func setup(t *testing.T) *world {
	t.Helper()
	bin := "/usr/bin/chromium"
	if _, err := os.Stat(bin); err != nil {
		t.Skip("no Chromium at /usr/bin/chromium: `make test` installs it (scripts/services.sh)")
	}
	w := &world{env: apptest.New(t, apptest.Options{Worker: true})}
	if _, _, err := app.UserAdd(context.Background(), w.env.Store, agentEmail, "agent", agentPassword); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-extensions", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	chromedp.ListenTarget(ctx, func(ev any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			w.dialogs = append(w.dialogs, ev.Message)
			go chromedp.Run(ctx, page.HandleJavaScriptDialog(false))
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value))
			}
			w.logs = append(w.logs, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
		case *runtime.EventExceptionThrown:
			w.logs = append(w.logs, "exception: "+ev.ExceptionDetails.Error())
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			w.mu.Lock()
			t.Logf("browser log:\n%s", strings.Join(w.logs, "\n"))
			w.mu.Unlock()
		}
	})
	w.ctx = ctx
	return w
}

func (w *world) run(t *testing.T, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(w.ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eventually evaluates js until it returns true.
func (w *world) eventually(t *testing.T, what, js string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var ok bool
		if err := chromedp.Run(w.ctx, chromedp.Evaluate(js, &ok)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	var html, loc string
	_ = chromedp.Run(w.ctx, chromedp.Location(&loc), chromedp.OuterHTML("html", &html, chromedp.ByQuery))
	t.Fatalf("timed out waiting for %s (%s) at %s:\n%.3000s", what, js, loc, html)
}

func (w *world) text(t *testing.T, sid, phone, body string) int64 {
	t.Helper()
	if code, resp := w.env.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound(sid, phone, body)); code != 200 {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	var id int64
	apptest.WaitFor(t, 5*time.Second, "the inbound text stored", func() bool {
		return w.env.Store.Pool.QueryRow(context.Background(), `SELECT conversation_id FROM messages WHERE twilio_sid = $1`, sid).Scan(&id) == nil
	})
	return id
}

func sid(n int) string { return fmt.Sprintf("SM%032d", n) }

func (w *world) screenshot(t *testing.T, name string) {
	t.Helper()
	var png []byte
	w.run(t, "screenshot "+name, chromedp.FullScreenshot(&png, 100))
	dir := t.TempDir()
	if os.Getenv("PARLEY_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "..", "..", "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if len(png) < 5000 {
		t.Fatalf("screenshot %s is only %d bytes", name, len(png))
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAgentWorkflow: sign in, see a text arrive live, reply, assign, note,
// close; a hostile body stays text; screenshots of the inbox and a conversation.
func TestAgentWorkflow(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	env := w.env
	people := []contact.Upsert{
		{Phones: []string{"+12125550101"}, LoyaltyID: "DA-100234", Name: "Maya Chen", Attributes: json.RawMessage(`{"tier":"gold","points":48210,"seat":"aisle"}`)},
		{Phones: []string{"+13055550102"}, Name: "Luis Ortega", Attributes: json.RawMessage(`{"tier":"blue","points":1200}`)},
		{Phones: []string{"+16175550104"}, LoyaltyID: "DA-778812", Name: "Priya Raman", Attributes: json.RawMessage(`{"tier":"platinum","points":152300}`)},
	}
	w.text(t, sid(1), "+13055550102", "Can I bring my dog in the cabin?")
	w.text(t, sid(2), "+16175550104", "Thanks for the upgrade last week, the crew was great")
	for _, p := range people {
		if _, err := contact.NewService(env.Store).Upsert(ctx, p); err != nil {
			t.Fatal(err)
		}
	}

	// Sign in through the form.
	var url string
	w.run(t, "sign in",
		chromedp.Navigate(env.PublicURL+"/"),
		chromedp.WaitVisible(`input[name="email"]`),
		chromedp.SendKeys(`input[name="email"]`, agentEmail),
		chromedp.SendKeys(`input[name="password"]`, agentPassword),
		chromedp.Click(`button[type="submit"]`),
	)
	w.eventually(t, "the inbox after sign-in", `!!document.getElementById("conversation-list")`)
	w.run(t, "location", chromedp.Location(&url))
	if url != env.PublicURL+"/" {
		t.Fatalf("after sign-in at %s, want the inbox", url)
	}
	w.eventually(t, "the live stream", `document.body.dataset.stream === "open"`)

	// A text arrives and appears without a reload.
	w.run(t, "mark the page", chromedp.Evaluate(`window.__marker = 1`, nil))
	conv := w.text(t, sid(3), "+12125550101", "Hi! My flight DA 123 is delayed, will I make my connection in Atlanta?")
	w.eventually(t, "the new row", fmt.Sprintf(`!!document.querySelector('#conversation-list li.row[data-id="%d"]')`, conv))
	var marker int
	w.run(t, "read the marker", chromedp.Evaluate(`window.__marker || 0`, &marker))
	if marker != 1 {
		t.Fatal("the page reloaded: the row must appear live")
	}
	w.eventually(t, "the power-user flag", fmt.Sprintf(`document.querySelector('li.row[data-id="%d"]').textContent.includes("power user")`, conv))

	// The hostile text shows as text and runs nothing.
	xss := w.text(t, sid(4), "+14155550199", xssBody)
	w.eventually(t, "the hostile row", fmt.Sprintf(`!!document.querySelector('li.row[data-id="%d"]')`, xss))
	var preview string
	w.run(t, "read the preview", chromedp.Text(fmt.Sprintf(`li.row[data-id="%d"] .preview`, xss), &preview))
	if !strings.Contains(preview, xssBody) {
		t.Fatalf("the preview %q must show the body as text", preview)
	}
	w.screenshot(t, "inbox.png")

	w.run(t, "open the hostile conversation", chromedp.Navigate(fmt.Sprintf("%s/conversations/%d", env.PublicURL, xss)), chromedp.WaitVisible(`#history`))
	var bubble string
	w.run(t, "read the bubble", chromedp.Text(`.msg.inbound .bubble`, &bubble))
	if strings.TrimSpace(bubble) != xssBody {
		t.Fatalf("bubble %q, want the literal text", bubble)
	}
	var images int
	w.run(t, "count images", chromedp.Evaluate(`document.querySelectorAll("#history img").length`, &images))
	if images != 0 {
		t.Fatal("the customer's <img> became an element")
	}

	// Open the live conversation, type a reply, watch the counter.
	w.run(t, "open the conversation", chromedp.Navigate(fmt.Sprintf("%s/conversations/%d", env.PublicURL, conv)), chromedp.WaitVisible(`#reply`))
	w.eventually(t, "the live stream", `document.body.dataset.stream === "open"`)
	var counter string
	w.run(t, "type", chromedp.SendKeys(`#reply`, "Hi Maya, you will make it: gate B12"), chromedp.Text(`#reply-counter`, &counter))
	if !strings.Contains(counter, "1 segment") || !strings.Contains(counter, "GSM-7") {
		t.Fatalf("counter %q", counter)
	}
	var warned bool
	w.run(t, "type a non-GSM character", chromedp.SendKeys(`#reply`, " ł"), chromedp.Evaluate(`!document.getElementById("ucs2-warning").hidden`, &warned), chromedp.Text(`#reply-counter`, &counter))
	if !warned || !strings.Contains(counter, "UCS-2") {
		t.Fatalf("after ł: warning shown %v, counter %q", warned, counter)
	}
	w.run(t, "send", chromedp.Click(`#send`))
	apptest.WaitFor(t, 10*time.Second, "the reply at the fake Twilio", func() bool {
		for _, m := range env.Twilio.Sent() {
			if m.To == "+12125550101" && m.Body == "Hi Maya, you will make it: gate B12 ł" {
				return true
			}
		}
		return false
	})
	w.eventually(t, "the reply in the history", `[...document.querySelectorAll(".msg.outbound .bubble")].some(b => b.textContent.includes("gate B12"))`)

	// Assign to me.
	w.run(t, "assign", chromedp.SetValue(`#assignee-select`, fmt.Sprint(w.userID(t))), chromedp.Click(`form[action$="/assign"] button[type="submit"]`))
	w.eventually(t, "the assignment shown", fmt.Sprintf(`document.getElementById("assignee").textContent.includes(%q)`, agentEmail))
	if n := env.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND assignee_id = $2`, conv, w.userID(t)); n != 1 {
		t.Fatal("the assignment is not stored")
	}

	// A note: shown, never sent.
	w.run(t, "note", chromedp.SendKeys(`#note`, "Rebooked on DA 456 if the connection is missed"), chromedp.Click(`#add-note`))
	w.eventually(t, "the note in the history", `[...document.querySelectorAll(".note .bubble")].some(b => b.textContent.includes("Rebooked on DA 456"))`)
	if n := env.Count(t, `SELECT count(*) FROM messages WHERE body LIKE '%Rebooked%'`); n != 0 {
		t.Fatal("a note became a message")
	}
	w.screenshot(t, "conversation.png")
	w.run(t, "phone-sized", chromedp.EmulateViewport(390, 844))
	w.screenshot(t, "conversation-phone.png")
	w.run(t, "desktop again", chromedp.EmulateViewport(1280, 800))

	// Close with the keyboard shortcut.
	w.run(t, "press e", chromedp.Evaluate(`document.activeElement && document.activeElement.blur()`, nil), chromedp.KeyEvent("e"))
	apptest.WaitFor(t, 5*time.Second, "the conversation closed", func() bool {
		return env.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND status = 'closed'`, conv) == 1
	})
	w.eventually(t, "the status shown", `document.getElementById("conv-status").dataset.status === "closed"`)

	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.dialogs) > 0 {
		t.Fatalf("JavaScript dialogs opened: %v", w.dialogs)
	}
}

func (w *world) userID(t *testing.T) int64 {
	t.Helper()
	var id int64
	if err := w.env.Store.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE email = $1`, agentEmail).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
