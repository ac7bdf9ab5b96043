package console

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/contact"
)

// maxUploadBytes bounds a CSV uploaded in the console (larger files: the
// CLI, `parley contacts import`).
const maxUploadBytes = 64 << 20

// importUpload: POST /contacts/import — a CSV file (multipart field
// "file") for a brand, spooled to disk and imported in the background; the
// answer is the import's page, which follows its progress.
func (h *Handlers) importUpload(c echo.Context) error {
	ctx := c.Request().Context()
	fail := func(status int, msg string) error {
		data, err := h.importsData(c)
		if err != nil {
			return err
		}
		data["Error"] = msg
		return h.render(c, status, "imports", data)
	}
	// The body is bounded (413) before any handler runs (Register).
	b, status, msg, err := h.formBrand(c)
	if err != nil {
		return err
	}
	if status != 0 {
		return fail(status, msg)
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return fail(http.StatusBadRequest, "file: choose a CSV file to upload")
	}
	if fh.Size > maxUploadBytes {
		return fail(http.StatusRequestEntityTooLarge, "file: over "+strconv.Itoa(maxUploadBytes>>20)+" MB: import it with `parley contacts import`")
	}
	src, err := fh.Open()
	if err != nil {
		return fail(http.StatusBadRequest, "file: it cannot be read")
	}
	defer func() { _ = src.Close() }()
	f, err := os.CreateTemp("", "parley-import-*.csv")
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, src); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return err
	}
	id, err := h.Store.CreateImport(ctx, b.ID, filepath.Base(fh.Filename), "console:"+session(c).User.Email)
	if err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return err
	}
	go contact.NewService(h.Store).RunImport(context.WithoutCancel(ctx), h.Log, id, b, f)
	return c.Redirect(http.StatusSeeOther, "/contacts/import/"+strconv.FormatInt(id, 10))
}
