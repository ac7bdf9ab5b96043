package console_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/apptest"
)

// upload posts a CSV to the import form as a browser does (multipart).
func upload(t *testing.T, b *browser, csrf, brand, name, content string) *http.Response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf_token", csrf)
	_ = mw.WriteField("brand", brand)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(fw, content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.env.PublicURL+"/contacts/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// A marketer uploads a CSV in the console: the import runs in the
// background, its page shows the progress and the skipped rows, and the
// error report lists every skipped row with its line and reason; an agent
// cannot import.
func TestImportFromConsole(t *testing.T) {
	env, users := setup(t)
	mb, csrf := signedIn(t, env, users, "marketer")
	csvText := "phone,name,tier\n+12125550701,Ana,gold\nnot a phone,Bo,gold\n(212) 555-0702,Cy,silver\n+12125550703;+12125550703,Di,\n+1 555 123 4567,Ed,gold\n"
	resp := upload(t, mb, csrf, env.Brand.Slug, "members.csv", csvText)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/contacts/import/") {
		t.Fatalf("upload: %d %q", resp.StatusCode, loc)
	}
	var page string
	apptest.WaitFor(t, 20*time.Second, "the import to finish", func() bool {
		_, page = mb.do(t, http.MethodGet, loc, nil)
		return strings.Contains(page, "state-completed")
	})
	for _, want := range []string{`value="100"`, `<strong id="import-rows">5</strong>`, `<strong id="import-imported">3</strong>`, `<strong id="import-skipped">2</strong>`, "errors.csv"} {
		if !strings.Contains(page, want) {
			t.Errorf("the import page lacks %s:\n%s", want, page)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM contacts WHERE name IN ('Ana', 'Cy', 'Di')`); n != 3 {
		t.Errorf("%d contacts imported, want 3", n)
	}
	resp, report := mb.do(t, http.MethodGet, loc+"/errors.csv", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("report: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(report)).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "line" || rows[1][0] != "3" || rows[2][0] != "6" ||
		!strings.Contains(rows[1][1], "not a phone") || !strings.Contains(rows[2][1], "not a valid US number") {
		t.Fatalf("report %q (%v)", rows, err)
	}
	_, list := mb.do(t, http.MethodGet, "/contacts/import", nil)
	if !strings.Contains(list, "members.csv") {
		t.Errorf("the imports list lacks the file")
	}
	ab, acsrf := signedIn(t, env, users, "agent")
	if resp := upload(t, ab, acsrf, env.Brand.Slug, "x.csv", "phone\n+12125550709\n"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an agent's upload: %d, want 403", resp.StatusCode)
	}
	if resp, _ := ab.do(t, http.MethodGet, loc, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an agent on the import page: %d, want 403", resp.StatusCode)
	}
	if resp := upload(t, mb, csrf, "no-such-brand", "x.csv", "phone\n+12125550709\n"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown brand: %d", resp.StatusCode)
	}
	if n := env.Count(t, `SELECT count(*) FROM contact_phones WHERE phone = '+12125550709'`); n != 0 {
		t.Errorf("a refused upload imported")
	}
}
