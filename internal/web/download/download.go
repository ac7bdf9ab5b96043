// Package download streams a generated file (a CSV export) to an HTTP
// client: nothing is sent until the first byte, so an error before it can
// still be answered properly; once bytes have gone, a failure aborts the
// response, so the client sees a broken transfer rather than a file that
// looks complete.
package download

import (
	"errors"
	"net/http"
	"strings"
	"time"
)

// idle is how long a client may take to accept what a flush sends. The
// server's WriteTimeout (a minute for the whole response) would cut a large
// export; each flush moves the write deadline on instead, so only a client
// that stops reading is cut off.
const idle = time.Minute

// Writer is the response body of one download. It is an io.Writer; Flush
// sends what has been written.
type Writer struct {
	w                     http.ResponseWriter
	rc                    *http.ResponseController
	contentType, filename string
	started               bool
}

// New returns the body writer of a download of filename (characters
// other than letters, digits, dot, dash and underscore become "_").
func New(w http.ResponseWriter, contentType, filename string) *Writer {
	return &Writer{w: w, rc: http.NewResponseController(w), contentType: contentType, filename: safeName(filename)}
}

// Filename is "<kind>-<slug>-<YYYYMMDD>.csv", the date in UTC.
func Filename(kind, slug string, now time.Time) string {
	return kind + "-" + slug + "-" + now.UTC().Format("20060102") + ".csv"
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// Started says whether the response has begun (status 200 and headers
// sent): before, an error can still be answered with an error status.
func (d *Writer) Started() bool { return d.started }

func (d *Writer) start() {
	h := d.w.Header()
	h.Set("Content-Type", d.contentType)
	h.Set("Content-Disposition", `attachment; filename="`+d.filename+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	d.w.WriteHeader(http.StatusOK)
	d.started = true
	d.extend()
}

// Write sends p, starting the response first if it has not begun.
func (d *Writer) Write(p []byte) (int, error) {
	if !d.started {
		d.start()
	}
	return d.w.Write(p)
}

// Flush sends what the response holds to the client and gives the client
// another minute to take the next part.
func (d *Writer) Flush() error {
	if !d.started {
		d.start()
	}
	d.extend()
	if err := d.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

func (d *Writer) extend() {
	// Not every writer has a deadline (a test's recorder): then the
	// server's own timeout, if any, applies.
	_ = d.rc.SetWriteDeadline(time.Now().Add(idle))
}

// Abort ends a started download as broken: net/http closes the connection
// (or resets the HTTP/2 stream) without finishing the body, so the client
// knows the file is incomplete. It does not return.
func Abort() {
	panic(http.ErrAbortHandler)
}
