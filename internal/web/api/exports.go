package api

import (
	"context"
	"errors"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
	"github.com/parleyhq/parley/internal/web/download"
)

// csvType is the Content-Type of the exports.
const csvType = "text/csv; charset=utf-8"

// exportContacts: GET /api/v1/contacts/export?brand=SLUG — the brand's
// contacts as CSV, streamed (contact.Service.Export says what is in it).
func (h *Handlers) exportContacts(c echo.Context) error {
	b, bad, err := h.exportBrand(c)
	if bad != nil || err != nil {
		return h.exportRefused(c, bad, err)
	}
	start := time.Now()
	dw := download.New(c.Response(), csvType, download.Filename("contacts", b.Slug, start))
	res, err := h.contacts.Export(c.Request().Context(), b, dw, dw.Flush)
	if len(res.SkippedKeys) > 0 {
		h.log.Warn("contacts export: attributes left out, their names clash with the file's columns", "brand", b.Slug, "keys", res.SkippedKeys)
	}
	return h.exportDone(c, dw, "contacts", b, res.Rows, start, err)
}

// exportConsent: GET /api/v1/consent/export?brand=SLUG — the brand's
// whole consent ledger as CSV, oldest first, streamed.
func (h *Handlers) exportConsent(c echo.Context) error {
	b, bad, err := h.exportBrand(c)
	if bad != nil || err != nil {
		return h.exportRefused(c, bad, err)
	}
	start := time.Now()
	dw := download.New(c.Response(), csvType, download.Filename("consent", b.Slug, start))
	n, err := h.ledger.Export(c.Request().Context(), b.ID, dw, dw.Flush)
	return h.exportDone(c, dw, "consent", b, n, start, err)
}

// exportBrand resolves ?brand= and checks that the key may touch it.
func (h *Handlers) exportBrand(c echo.Context) (store.Brand, *apierr.Error, error) {
	b, bad, err := h.brandParam(c, true)
	if bad != nil || err != nil {
		return b, bad, err
	}
	return b, brandAllowed(c, b.ID, b.Slug), nil
}

func (h *Handlers) exportRefused(c echo.Context, bad *apierr.Error, err error) error {
	if bad != nil {
		return apierr.Write(c, bad)
	}
	return h.internal(c, err)
}

// exportDone ends an export: an error before the first byte is answered
// as any other; after it, the response is broken off (the client must not
// take a cut file for a whole one) and the error logged.
func (h *Handlers) exportDone(c echo.Context, dw *download.Writer, kind string, b store.Brand, rows int64, start time.Time, err error) error {
	attrs := []any{"export", kind, "brand", b.Slug, "key", apiKey(c).Prefix, "rows", rows, "ms", time.Since(start).Milliseconds()}
	if err == nil {
		h.log.Info("api export sent", attrs...)
		return nil
	}
	if !dw.Started() {
		return h.internal(c, err)
	}
	if errors.Is(err, context.Canceled) {
		h.log.Warn("api export stopped: the client went away", attrs...)
	} else {
		h.log.Error("api export failed after it began; response broken off", append(attrs, "err", err)...)
	}
	download.Abort()
	return nil
}
