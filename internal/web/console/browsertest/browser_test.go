package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/apptest"
	"github.com/parleyhq/parley/internal/automation"
	"github.com/parleyhq/parley/internal/contact"
)

const (
	agentEmail    = "ana@demo-air.example"
	agentPassword = "correct horse battery"
	xssBody       = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	// probeBody would set window.__xss if any of it ran
	// (under the inbox preview's 90 characters).
	probeBody = `"><svg/onload=window.__xss=1><img src=x onerror="window.__xss=2"><script>__xss=3</script>`
	probeName = `Mallory <b>Bold</b><img src=x onerror="window.__xss=4">`
)

// browsers holds at most two Chromiums at once (a two-core machine).
var browsers = make(chan struct{}, 2)

// watchPage runs in every document before its own scripts: it records CSP
// violations, which an injected inline handler or script would cause.
const watchPage = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "") + " " + (e.sample || ""));
});`

// world is one Parley, one signed-in agent and one headless Chromium tab.
type world struct {
	env     *apptest.Env
	ctx     context.Context
	mu      sync.Mutex
	dialogs []string          // JavaScript dialogs that opened (there must be none)
	logs    []string          // console messages, browser log entries and exceptions, shown on failure
	csp     map[string]string // document URL → Content-Security-Policy as the browser got it
}

// browserOptions: Debian's chromium when it is there, else whatever chromedp
// finds; the test skips when there is no browser at all.
func browserOptions(t *testing.T) []chromedp.ExecAllocatorOption {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-extensions", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 800))
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return append(opts, chromedp.ExecPath("/usr/bin/chromium"))
	}
	for _, name := range []string{"headless_shell", "headless-shell", "chromium", "chromium-browser",
		"google-chrome", "google-chrome-stable", "google-chrome-beta", "google-chrome-unstable"} {
		if _, err := exec.LookPath(name); err == nil {
			return opts // chromedp finds it the same way
		}
	}
	t.Skip("no Chromium or Chrome found (looked for /usr/bin/chromium and on PATH): `make test` installs Debian's chromium (scripts/services.sh)")
	return nil
}

// newWorld starts a headless Chromium for env, with an agent account.
func newWorld(t *testing.T, env *apptest.Env) *world {
	t.Helper()
	opts := browserOptions(t)
	browsers <- struct{}{}
	t.Cleanup(func() { <-browsers })
	w := &world{env: env, csp: map[string]string{}}
	if _, _, err := app.UserAdd(context.Background(), env.Store, agentEmail, "agent", agentPassword); err != nil {
		t.Fatal(err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	// A bound against a hung browser, not a timing: a page on a machine busy
	// compiling and testing can take seconds to load.
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	chromedp.ListenTarget(ctx, func(ev any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			w.dialogs = append(w.dialogs, string(ev.Type)+": "+ev.Message)
			go chromedp.Run(ctx, page.HandleJavaScriptDialog(false))
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			w.logs = append(w.logs, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
		case *cdplog.EventEntryAdded: // the browser's own messages, e.g. a CSP violation
			w.logs = append(w.logs, "log."+string(ev.Entry.Level)+": "+ev.Entry.Text+" "+ev.Entry.URL)
		case *runtime.EventExceptionThrown:
			w.logs = append(w.logs, "exception: "+ev.ExceptionDetails.Error())
		case *network.EventResponseReceived:
			if ev.Type == network.ResourceTypeDocument {
				for k, v := range ev.Response.Headers {
					if strings.EqualFold(k, "Content-Security-Policy") {
						w.csp[ev.Response.URL] = fmt.Sprint(v)
					}
				}
			}
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
	w.run(t, "start the browser", chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(watchPage).Do(ctx)
		return err
	}), chromedp.EmulateViewport(1280, 800))
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

// signIn signs in through the form on the page the inbox redirects to.
func (w *world) signIn(t *testing.T) {
	t.Helper()
	w.run(t, "sign in",
		chromedp.Navigate(w.env.PublicURL+"/"),
		chromedp.WaitVisible(`input[name="email"]`),
		chromedp.SendKeys(`input[name="email"]`, agentEmail),
		chromedp.SendKeys(`input[name="password"]`, agentPassword),
		chromedp.Click(`button[type="submit"]`),
	)
	w.eventually(t, "the inbox after sign-in", `!!document.getElementById("conversation-list")`)
	var url string
	w.run(t, "location", chromedp.Location(&url))
	if url != w.env.PublicURL+"/" {
		t.Fatalf("after sign-in at %s, want the inbox", url)
	}
	w.eventually(t, "the live stream", `document.body.dataset.stream === "open"`)
}

// text posts a signed inbound text and returns its conversation.
func text(t *testing.T, env *apptest.Env, sid, phone, body string) int64 {
	t.Helper()
	if code, resp := env.PostForm(t, "/webhooks/twilio/sms", apptest.Inbound(sid, phone, body)); code != 200 {
		t.Fatalf("webhook: %d %s", code, resp)
	}
	var id int64
	apptest.WaitFor(t, 5*time.Second, "the inbound text stored", func() bool {
		return env.Store.Pool.QueryRow(context.Background(), `SELECT conversation_id FROM messages WHERE twilio_sid = $1`, sid).Scan(&id) == nil
	})
	return id
}

func sid(n int) string { return fmt.Sprintf("SM%032d", n) }

func (w *world) evalString(t *testing.T, js string) string {
	t.Helper()
	var s string
	w.run(t, "evaluate "+js, chromedp.Evaluate(js, &s))
	return s
}

func (w *world) evalInt(t *testing.T, js string) int {
	t.Helper()
	var n int
	w.run(t, "evaluate "+js, chromedp.Evaluate(js, &n))
	return n
}

// noScriptRan: nothing a customer wrote ran, no dialog opened and the page
// broke no CSP rule (an injected handler or script would).
func (w *world) noScriptRan(t *testing.T, where string) {
	t.Helper()
	if v := w.evalString(t, `String(window.__xss)`); v != "undefined" {
		t.Fatalf("%s: window.__xss = %s: the customer's markup ran", where, v)
	}
	if v := w.evalString(t, `JSON.stringify(window.__cspViolations || [])`); v != "[]" {
		t.Fatalf("%s: CSP violations %s: the customer's markup became elements", where, v)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.dialogs) > 0 {
		t.Fatalf("%s: JavaScript dialogs opened: %v", where, w.dialogs)
	}
}

// screenshot saves the whole page: into docs/screenshots with
// PARLEY_SCREENSHOTS=1, else into a temporary directory.
func (w *world) screenshot(t *testing.T, name string) {
	t.Helper()
	var png []byte
	w.run(t, "screenshot "+name,
		chromedp.Evaluate(`document.getElementById("toast") && document.getElementById("toast").remove()`, nil),
		chromedp.FullScreenshot(&png, 100))
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

func (w *world) userID(t *testing.T) int64 {
	t.Helper()
	var id int64
	if err := w.env.Store.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE email = $1`, agentEmail).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestAgentWorkflow: sign in, see a text arrive live, reply, assign, note,
// close; hostile text stays text; screenshots of the inbox and a conversation.
func TestAgentWorkflow(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Worker: true})
	w := newWorld(t, env)
	ctx := context.Background()
	people := []contact.Upsert{
		{Phones: []string{"+12125550101"}, LoyaltyID: "DA-100234", Name: "Maya Chen", Attributes: json.RawMessage(`{"tier":"gold","points":48210,"seat":"aisle"}`)},
		{Phones: []string{"+13055550102"}, Name: "Luis Ortega", Attributes: json.RawMessage(`{"tier":"blue","points":1200}`)},
		{Phones: []string{"+16175550104"}, LoyaltyID: "DA-778812", Name: "Priya Raman", Attributes: json.RawMessage(`{"tier":"silver","points":15230}`)},
		{Phones: []string{"+17735550107"}, Name: "Tom Becker", Attributes: json.RawMessage(`{"tier":"blue","points":310}`)},
		{Phones: []string{"+14155550199"}, Name: probeName, Attributes: json.RawMessage(`{"tier":"<script>window.__xss=5</script>","nickname":"<img src=x onerror=\"window.__xss=6\">"}`)},
	}
	for _, p := range people {
		if _, err := contact.NewService(env.Store).Upsert(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	text(t, env, sid(1), "+13055550102", "Can I bring my dog in the cabin?")
	text(t, env, sid(2), "+16175550104", "Thanks for the upgrade last week, the crew was great")
	text(t, env, sid(3), "+17735550107", "Is there wifi on the Lisbon flight?")

	// 1. Sign in through the form; the agent goes online from the header.
	w.signIn(t)
	w.run(t, "go online", chromedp.SetValue(`#presence`, "online"),
		chromedp.Evaluate(`document.getElementById("presence").dispatchEvent(new Event("change", {bubbles: true}))`, nil))
	apptest.WaitFor(t, 5*time.Second, "presence online stored", func() bool {
		return env.Count(t, `SELECT count(*) FROM users WHERE email = $1 AND presence = 'online'`, agentEmail) == 1
	})

	// 2. A text arrives and appears without a reload.
	w.run(t, "mark the page", chromedp.Evaluate(`window.__marker = 1`, nil))
	conv := text(t, env, sid(4), "+12125550101", "Hi! My flight DA 123 is delayed, will I make my connection in Atlanta?")
	row := fmt.Sprintf(`#conversation-list li.row[data-id="%d"]`, conv)
	w.run(t, "the new row", chromedp.WaitVisible(row))
	if w.evalInt(t, `window.__marker || 0`) != 1 {
		t.Fatal("the page reloaded: the row must appear live")
	}
	if got := w.evalString(t, fmt.Sprintf(`document.querySelector('%s .preview').textContent.trim()`, row)); got != "Hi! My flight DA 123 is delayed, will I make my connection in Atlanta?" {
		t.Fatalf("new row preview %q", got)
	}
	w.eventually(t, "the power-user flag", fmt.Sprintf(`document.querySelector('%s').textContent.includes("power user")`, row))
	if n := w.evalInt(t, `document.querySelectorAll("#conversation-list .tag.power").length`); n != 1 {
		t.Fatalf("%d power-user flags in the inbox, want 1 (Maya Chen, gold)", n)
	}
	w.screenshot(t, "inbox.png")

	// 7. Hostile texts (and a hostile contact name) arrive live, show as
	// text and run nothing.
	xss := text(t, env, sid(5), "+14155550199", xssBody)
	xrow := fmt.Sprintf(`#conversation-list li.row[data-id="%d"]`, xss)
	w.eventually(t, "the hostile row", fmt.Sprintf(`!!document.querySelector('%s') && document.querySelector('%s .preview').textContent.trim() === %q`, xrow, xrow, xssBody))
	text(t, env, sid(6), "+14155550199", probeBody)
	w.eventually(t, "the probe as the row's preview", fmt.Sprintf(`document.querySelector('%s .preview').textContent.trim() === %q`, xrow, probeBody))
	if got := w.evalString(t, fmt.Sprintf(`document.querySelector('%s .who strong').textContent`, xrow)); got != probeName {
		t.Fatalf("the hostile name shows as %q, want the literal text", got)
	}
	if n := w.evalInt(t, `document.querySelectorAll("#conversation-list img, #conversation-list script, #conversation-list svg, #conversation-list b").length`); n != 0 {
		t.Fatalf("%d elements made from customer text in the inbox", n)
	}
	if w.evalInt(t, `window.__marker || 0`) != 1 {
		t.Fatal("the page reloaded")
	}
	time.Sleep(300 * time.Millisecond) // give a broken page's handlers time to fire
	w.noScriptRan(t, "inbox")

	w.run(t, "open the hostile conversation", chromedp.Navigate(fmt.Sprintf("%s/conversations/%d", env.PublicURL, xss)), chromedp.WaitVisible(`#history`))
	bubbles := w.evalString(t, `JSON.stringify([...document.querySelectorAll(".msg.inbound .bubble")].map(b => b.textContent.trim()))`)
	var shown []string
	if err := json.Unmarshal([]byte(bubbles), &shown); err != nil || len(shown) != 2 || shown[0] != xssBody || shown[1] != probeBody {
		t.Fatalf("bubbles %s, want the literal texts %q and %q", bubbles, xssBody, probeBody)
	}
	if got := w.evalString(t, `document.querySelector(".thread-head h1").textContent.trim()`); got != probeName {
		t.Fatalf("heading %q, want the literal name", got)
	}
	panel := w.evalString(t, `document.getElementById("contact-panel").textContent`)
	for _, s := range []string{probeName, "<script>window.__xss=5</script>", `<img src=x onerror="window.__xss=6">`} {
		if !strings.Contains(panel, s) {
			t.Fatalf("the contact panel does not show %q as text:\n%s", s, panel)
		}
	}
	if n := w.evalInt(t, `document.querySelectorAll("main img, main script, main svg, main b").length`); n != 0 {
		t.Fatalf("%d elements made from customer text in the conversation", n)
	}
	time.Sleep(300 * time.Millisecond)
	w.noScriptRan(t, "conversation")
	w.mu.Lock()
	cspSeen := len(w.csp)
	for u, csp := range w.csp {
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			w.mu.Unlock()
			t.Fatalf("%s came with Content-Security-Policy %q", u, csp)
		}
	}
	w.mu.Unlock()
	if cspSeen == 0 {
		t.Fatal("no page came with a Content-Security-Policy")
	}

	// 3. Open the live conversation, type a reply, watch the counter, send.
	w.run(t, "open the conversation", chromedp.Navigate(fmt.Sprintf("%s/conversations/%d", env.PublicURL, conv)), chromedp.WaitVisible(`#reply`))
	w.eventually(t, "the live stream", `document.body.dataset.stream === "open"`)
	// The waiting customer's response target counts down in the header.
	w.eventually(t, "the response clock", `/^answer within \d+:\d\d$/.test((document.querySelector("#waiting .sla-clock") || {}).textContent || "")`)
	var counter string
	w.run(t, "type", chromedp.Evaluate(`document.getElementById("reply").focus()`, nil), chromedp.SendKeys(`#reply`, "Hi Maya, you will make it: gate B12"), chromedp.Text(`#reply-counter`, &counter))
	if !strings.Contains(counter, "1 segment") || !strings.Contains(counter, "GSM-7") {
		t.Fatalf("counter %q", counter)
	}
	if w.evalString(t, `String(document.getElementById("ucs2-warning").hidden)`) != "true" {
		t.Fatal("the UCS-2 warning shows for a GSM-7 text")
	}
	w.run(t, "type a non-GSM character", chromedp.SendKeys(`#reply`, " ł"), chromedp.WaitVisible(`#ucs2-warning`), chromedp.Text(`#reply-counter`, &counter))
	if !strings.Contains(counter, "1 segment") || !strings.Contains(counter, "UCS-2") || !strings.Contains(counter, "ł") {
		t.Fatalf("after ł: counter %q", counter)
	}
	const reply = "Hi Maya, you will make it: gate B12 ł"
	w.run(t, "mark the page", chromedp.Evaluate(`window.__marker = 2`, nil), chromedp.Click(`#send`))
	apptest.WaitFor(t, 10*time.Second, "the reply at the fake Twilio", func() bool {
		for _, m := range env.Twilio.Sent() {
			if m.To == "+12125550101" && m.From == apptest.BrandNumber && m.Body == reply {
				return true
			}
		}
		return false
	})
	w.eventually(t, "the reply in the history", fmt.Sprintf(`[...document.querySelectorAll("#history .msg.outbound .bubble")].some(b => b.textContent.trim() === %q)`, reply))
	if w.evalInt(t, `document.querySelectorAll("#waiting, .sla-clock").length`) != 0 {
		t.Fatal("after the reply the header still shows the customer waiting")
	}
	w.eventually(t, "the reply's status as sent", `[...document.querySelectorAll("#history .msg.outbound [data-status]")].some(s => s.dataset.status === "sent" || s.dataset.status === "delivered")`)
	if w.evalString(t, `document.getElementById("reply").value`) != "" {
		t.Fatal("the reply box was not emptied after sending")
	}
	if w.evalInt(t, `window.__marker || 0`) != 2 {
		t.Fatal("sending reloaded the page")
	}

	// 4. Assign to me.
	me := w.userID(t)
	// Choose and submit in one step of the page's event loop: the live
	// refresh replaces the header between two separate browser commands
	// (one that finds the select, one that sets it) when the replies'
	// status updates arrive, and the value would go to a detached node.
	w.run(t, "assign", chromedp.Evaluate(fmt.Sprintf(`(() => {
		const f = document.querySelector('form[action$="/assign"]');
		f.querySelector("#assignee-select").value = %q;
		f.querySelector('button[type="submit"]').click();
	})()`, fmt.Sprint(me)), nil))
	w.eventually(t, "the assignment shown", fmt.Sprintf(`document.getElementById("assignee").textContent.trim() === %q`, "assigned to "+agentEmail))
	if n := env.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND assignee_id = $2`, conv, me); n != 1 {
		t.Fatal("the assignment is not stored")
	}

	// 5. A note: shown, never stored as a message, never sent.
	const note = "Rebooked on DA 456 if the connection is missed"
	// Focus first, in one step of the page's own: a refresh (the SSE event
	// of the assignment, late on a busy machine) never replaces a composer
	// being used, so the box typed into is the one that stays.
	w.run(t, "note", chromedp.Evaluate(`document.getElementById("note").focus()`, nil), chromedp.SendKeys(`#note`, note), chromedp.Click(`#add-note`))
	w.eventually(t, "the note in the history", fmt.Sprintf(`[...document.querySelectorAll("#history .note .bubble")].some(b => b.textContent.includes(%q))`, note))
	if n := env.Count(t, `SELECT count(*) FROM messages WHERE body LIKE '%Rebooked%'`); n != 0 {
		t.Fatal("a note became a message")
	}
	if n := env.Count(t, `SELECT count(*) FROM conversation_notes WHERE conversation_id = $1 AND body = $2`, conv, note); n != 1 {
		t.Fatal("the note is not stored")
	}
	for _, m := range env.Twilio.Sent() {
		if strings.Contains(m.Body, "Rebooked") {
			t.Fatalf("the note was sent to %s", m.To)
		}
	}
	if n := w.evalInt(t, `document.querySelectorAll("#history .msg.outbound").length`); n != 1 {
		t.Fatalf("%d outbound messages shown, want only the reply", n)
	}
	w.screenshot(t, "conversation.png")
	w.run(t, "phone-sized", chromedp.EmulateViewport(390, 844))
	w.screenshot(t, "conversation-phone.png")
	w.run(t, "desktop again", chromedp.EmulateViewport(1280, 800))

	// 6. Close with the keyboard shortcut.
	w.run(t, "press e", chromedp.Evaluate(`document.activeElement && document.activeElement.blur()`, nil), chromedp.KeyEvent("e"))
	apptest.WaitFor(t, 5*time.Second, "the conversation closed", func() bool {
		return env.Count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND status = 'closed'`, conv) == 1
	})
	w.eventually(t, "the status shown", `document.getElementById("conv-status").dataset.status === "closed" && document.getElementById("conv-status").textContent.trim() === "closed"`)
	w.eventually(t, "the reopen button", `!!document.getElementById("reopen") && !document.getElementById("close")`)
	if w.evalInt(t, `window.__marker || 0`) != 2 {
		t.Fatal("closing reloaded the page")
	}
	w.noScriptRan(t, "end")
}

// TestLiveAcrossProcesses: the browser is connected to one Parley process; a
// second process sharing the database takes the texts, and they still
// appear live, in the inbox and in the open conversation.
func TestLiveAcrossProcesses(t *testing.T) {
	t.Parallel()
	first := apptest.New(t, apptest.Options{})
	second := apptest.New(t, apptest.Options{Share: first})
	w := newWorld(t, first)
	w.signIn(t)

	w.run(t, "mark the page", chromedp.Evaluate(`window.__marker = 1`, nil))
	conv := text(t, second, sid(1), "+12125550111", "Texted through the other process")
	w.run(t, "the new row", chromedp.WaitVisible(fmt.Sprintf(`#conversation-list li.row[data-id="%d"]`, conv)))
	if got := w.evalString(t, fmt.Sprintf(`document.querySelector('li.row[data-id="%d"] .preview').textContent.trim()`, conv)); got != "Texted through the other process" {
		t.Fatalf("preview %q", got)
	}
	if w.evalInt(t, `window.__marker || 0`) != 1 {
		t.Fatal("the page reloaded: the row must appear live")
	}

	w.run(t, "open it", chromedp.Navigate(fmt.Sprintf("%s/conversations/%d", first.PublicURL, conv)), chromedp.WaitVisible(`#history`))
	w.eventually(t, "the live stream", `document.body.dataset.stream === "open"`)
	w.run(t, "mark the page", chromedp.Evaluate(`window.__marker = 2`, nil))
	text(t, second, sid(2), "+12125550111", "And a second one")
	w.eventually(t, "the second text in the history", `[...document.querySelectorAll("#history .msg.inbound .bubble")].some(b => b.textContent.trim() === "And a second one")`)
	if w.evalInt(t, `window.__marker || 0`) != 2 {
		t.Fatal("the conversation reloaded: the text must appear live")
	}
	w.noScriptRan(t, "across processes")
}

// An admin busy on another page (routing settings) is told at once when a
// waiting customer's response target passes, with a link to the
// conversation.
func TestAdminToldOfMissedTargetOnAnyPage(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	env := apptest.New(t, apptest.Options{Worker: true, App: func(o *app.Options) {
		o.Now = func() time.Time { return time.Unix(0, clock.Load()) }
		o.DispatchEvery = 50 * time.Millisecond
	}})
	if _, err := automation.NewService(env.Store, env.App.Routing).PutSettings(context.Background(), env.Brand,
		[]byte(`{"first_response_sla_seconds": 120}`)); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, env)
	if _, err := env.Store.Pool.Exec(context.Background(), `UPDATE users SET role = 'admin' WHERE email = $1`, agentEmail); err != nil {
		t.Fatal(err)
	}
	w.signIn(t)
	w.run(t, "open the routing settings", chromedp.Navigate(env.PublicURL+"/admin/routing"), chromedp.WaitVisible(`main`))
	w.eventually(t, "the admin's live stream", `document.body.dataset.stream === "open"`)
	conv := text(t, env, sid(40), "+12125550140", "Still waiting for my refund")
	clock.Add(int64(3 * time.Minute))
	w.eventually(t, "the missed-target notice", fmt.Sprintf(
		`!!document.querySelector('#toast.bad a[href="/conversations/%d"]')`, conv))
	var loc string
	w.run(t, "follow the notice", chromedp.Click(`#toast a`), chromedp.WaitVisible(`#history`), chromedp.Location(&loc))
	if loc != fmt.Sprintf("%s/conversations/%d", env.PublicURL, conv) {
		t.Fatalf("the notice led to %s", loc)
	}
	w.noScriptRan(t, "the missed-target notice")
}

// The new-campaign form counts its audience live while the marketer
// narrows it, in the real browser.
func TestCampaignAudienceCountedLive(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	for i, tier := range []string{"gold", "gold", "silver", "gold"} {
		phone := fmt.Sprintf("+1212555090%d", i)
		var id int64
		if err := env.Store.Pool.QueryRow(ctx, `INSERT INTO contacts (name, attributes) VALUES ('Ana', jsonb_build_object('tier', $1::text)) RETURNING id`, tier).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Store.Pool.Exec(ctx, `INSERT INTO contact_phones (phone, contact_id) VALUES ($1, $2)`, phone, id); err != nil {
			t.Fatal(err)
		}
		status := "opted_in"
		if i == 3 {
			status = "opted_out"
		}
		if _, err := env.Store.Pool.Exec(ctx, `INSERT INTO consent_events (brand_id, phone, purpose, status, source, evidence) VALUES ($1, $2, 'marketing', $3, 'import', 'test')`,
			env.Brand.ID, phone, status); err != nil {
			t.Fatal(err)
		}
	}
	w := newWorld(t, env)
	w.signIn(t)
	if _, err := env.Store.Pool.Exec(ctx, `UPDATE users SET role = 'marketer' WHERE email = $1`, agentEmail); err != nil {
		t.Fatal(err)
	}
	w.run(t, "open the campaigns page", chromedp.Navigate(env.PublicURL+"/campaigns"), chromedp.WaitVisible(`#audience-count`))
	w.eventually(t, "everyone opted in counted", `document.getElementById("audience-count").textContent === "Reaches 3 people now; left out: 1 opted out."`)
	w.run(t, "narrow to silver", chromedp.SendKeys(`input[name="tiers"]`, "silver"))
	w.eventually(t, "the silver member counted", `document.getElementById("audience-count").textContent === "Reaches 1 person now."`)
	w.run(t, "a bad condition", chromedp.SendKeys(`textarea[name="conditions"]`, "points >= lots"))
	w.eventually(t, "the mistake shown", `document.getElementById("audience-count").classList.contains("error")`)
	w.noScriptRan(t, "the live audience count")
}

// A marketer uploads a CSV in the real browser and watches the import's
// page fill in by itself, to a full bar and the link to its error report.
func TestImportProgressInBrowser(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{})
	file := filepath.Join(t.TempDir(), "members.csv")
	var b strings.Builder
	b.WriteString("phone,name\n")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "+1646%07d,Member %d\n", 2_000_000+i, i)
	}
	b.WriteString("not a phone,Nobody\n")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, env)
	w.signIn(t)
	if _, err := env.Store.Pool.Exec(context.Background(), `UPDATE users SET role = 'marketer' WHERE email = $1`, agentEmail); err != nil {
		t.Fatal(err)
	}
	w.run(t, "open the import page", chromedp.Navigate(env.PublicURL+"/contacts/import"), chromedp.WaitVisible(`input[type="file"]`))
	w.run(t, "choose the file", chromedp.SetUploadFiles(`input[type="file"]`, []string{file}, chromedp.ByQuery))
	w.run(t, "upload", chromedp.Click(`form[action="/contacts/import"] button[type="submit"]`, chromedp.ByQuery), chromedp.WaitVisible(`#import-progress`, chromedp.ByQuery))
	w.eventually(t, "the import completed on screen", `document.querySelector("#import-progress .state-completed") !== null &&
		document.getElementById("import-bar").value === 100 && document.getElementById("import-imported").textContent === "3000" &&
		document.getElementById("import-skipped").textContent === "1" && !!document.getElementById("import-errors")`)
	w.noScriptRan(t, "the import page")
}
