package console

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/download"
)

// contactRoutes lists the marketers' contact pages (admins too): the
// downloads of a brand's contacts and of its consent ledger.
func (h *Handlers) contactRoutes() []Route {
	return []Route{
		{http.MethodGet, "/contacts/export", auth.Marketing, h.contactsExportShow},
		{http.MethodGet, "/contacts/export.csv", auth.Marketing, h.contactsExportCSV},
		{http.MethodGet, "/consent/export.csv", auth.Marketing, h.consentExportCSV},
	}
}

// csvType is the Content-Type of the downloads.
const csvType = "text/csv; charset=utf-8"

// exportBrand resolves ?brand= to a brand the user may see. It answers
// the request itself when it cannot (400 without a brand, 404 for an
// unknown one, 403 for one of another brand's) and then returns ok false.
func (h *Handlers) exportBrand(c echo.Context, kind string) (store.Brand, bool, error) {
	back := map[string]any{"Back": "/contacts/export"}
	slug := strings.TrimSpace(c.QueryParam("brand"))
	if slug == "" {
		back["Message"] = "Choose a brand: ?brand=<slug>."
		return store.Brand{}, false, h.render(c, http.StatusBadRequest, "error", back)
	}
	ctx := c.Request().Context()
	b, err := h.Store.BrandBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		back["Message"] = "No brand has the slug " + slug + "."
		return b, false, h.render(c, http.StatusNotFound, "error", back)
	}
	if err != nil {
		return b, false, err
	}
	u := session(c).User
	brands, err := h.Conversations.Brands(ctx, u)
	if err != nil {
		return b, false, err
	}
	if !conversation.MaySee(brands, b.ID) {
		h.Log.Warn("console export refused: brand not the user's", "export", kind, "brand", b.Slug, "user_id", u.ID, "email", u.Email, "role", u.Role)
		back["Message"] = "You do not have access to that brand."
		return b, false, h.render(c, http.StatusForbidden, "error", back)
	}
	return b, true, nil
}

// exportDone ends a download and records it in the log, with who took
// what: an error before the first byte is answered as a page, after it
// the response is broken off, so a cut file never looks whole.
func (h *Handlers) exportDone(c echo.Context, dw *download.Writer, kind string, b store.Brand, rows int64, start time.Time, err error) error {
	u := session(c).User
	attrs := []any{"export", kind, "brand", b.Slug, "user_id", u.ID, "email", u.Email, "role", u.Role,
		"rows", rows, "ms", time.Since(start).Milliseconds()}
	if err == nil {
		h.Log.Info("console export downloaded", attrs...)
		return nil
	}
	if !dw.Started() {
		h.Log.Error("console export failed", append(attrs, "err", err)...)
		return h.render(c, http.StatusInternalServerError, "error", map[string]any{
			"Message": "The file could not be made; try again.", "Back": "/contacts/export"})
	}
	if errors.Is(err, context.Canceled) {
		h.Log.Warn("console export stopped: the browser went away", attrs...)
	} else {
		h.Log.Error("console export failed after it began; download broken off", append(attrs, "err", err)...)
	}
	download.Abort()
	return nil
}
