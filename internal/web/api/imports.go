package api

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
)

// importMaxBody bounds a CSV sent to the API (larger files: the CLI).
const importMaxBody = 64 << 20

// bodyLimits are the routes whose bodies may exceed maxBody.
var bodyLimits = map[string]int64{"/contacts/import": importMaxBody, "/events\\:batch": 8 << 20}

type importJSON struct {
	ID         int64             `json:"id"`
	Brand      string            `json:"brand"`
	Status     string            `json:"status"`
	Rows       int64             `json:"rows"`
	Imported   int64             `json:"imported"`
	Created    int64             `json:"created"`
	Skipped    int64             `json:"skipped"`
	Failure    string            `json:"failure,omitempty"`
	SizeBytes  int64             `json:"size_bytes"`
	BytesRead  int64             `json:"bytes_read"`
	Errors     []importErrorJSON `json:"errors"`
	CreatedAt  time.Time         `json:"created_at"`
	FinishedAt *time.Time        `json:"finished_at"`
}

type importErrorJSON struct {
	Line   int64  `json:"line"`
	Reason string `json:"reason"`
}

// importContacts: POST /api/v1/contacts/import?brand=SLUG — a CSV body
// (text/csv), imported in the background; 202 with the import's id.
func (h *Handlers) importContacts(c echo.Context) error {
	r := c.Request()
	b, bad, err := h.brandParam(c, true)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	if err != nil {
		return h.internal(c, err)
	}
	if bad := brandAllowed(c, b.ID, b.Slug); bad != nil {
		return apierr.Write(c, bad)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "text/csv" {
		return apierr.Write(c, apierr.New("unsupported_media", "send the file as Content-Type: text/csv, not %q", r.Header.Get("Content-Type")))
	}
	// The file is kept on disk while it is imported, so that the request
	// ends at once and memory stays flat.
	f, err := os.CreateTemp("", "parley-import-*.csv")
	if err != nil {
		return h.internal(c, err)
	}
	_, err = io.Copy(f, http.MaxBytesReader(c.Response(), r.Body, importMaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		discard(f)
		return apierr.Write(c, apierr.New("payload_too_large", "the file is over %d bytes: import it with `parley contacts import`", importMaxBody))
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		discard(f)
		return apierr.Write(c, apierr.New("invalid_request", "the body cannot be read: %v", err))
	}
	ctx := r.Context()
	id, err := h.st.CreateImport(ctx, b.ID, strings.TrimSpace(c.QueryParam("filename")), "api:"+apiKey(c).Prefix)
	if err != nil {
		discard(f)
		return h.internal(c, err)
	}
	go contact.NewService(h.st).RunImport(context.WithoutCancel(ctx), h.log, id, b, f)
	m, err := h.st.ImportByID(ctx, id)
	if err != nil {
		return h.internal(c, err)
	}
	return ok(c, http.StatusAccepted, importOut(m, nil))
}

// maxImportErrors is how many skipped rows an import's answer lists.
const maxImportErrors = 1000

// getImport: GET /api/v1/contacts/import/{id} — progress, and the first
// skipped rows with their line and reason.
func (h *Handlers) getImport(c echo.Context) error {
	id, bad := idParam(c, "id", true)
	if bad != nil {
		return apierr.Write(c, bad)
	}
	ctx := c.Request().Context()
	m, err := h.st.ImportByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return apierr.Write(c, apierr.New("not_found", "no such import"))
	}
	if err != nil {
		return h.internal(c, err)
	}
	if bad := brandAllowed(c, m.BrandID, m.BrandSlug); bad != nil {
		return apierr.Write(c, bad)
	}
	errs, err := h.st.ImportErrors(ctx, id, 0, maxImportErrors)
	if err != nil {
		return h.internal(c, err)
	}
	return ok(c, http.StatusOK, importOut(m, errs))
}

func importOut(m store.ContactImport, errs []store.ImportError) importJSON {
	out := importJSON{ID: m.ID, Brand: m.BrandSlug, Status: m.Status, Rows: m.RowsRead, Imported: m.Imported, Created: m.Created,
		Skipped: m.Skipped, Failure: m.Failure, SizeBytes: m.SizeBytes, BytesRead: m.BytesRead, Errors: []importErrorJSON{}, CreatedAt: m.CreatedAt, FinishedAt: m.FinishedAt}
	for _, e := range errs {
		out.Errors = append(out.Errors, importErrorJSON(e))
	}
	return out
}

// discard closes and removes a spooled import file.
func discard(f *os.File) {
	_ = f.Close()
	_ = os.Remove(f.Name())
}
