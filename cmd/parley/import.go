package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
)

// importGCPercent is the GC pacing of the CLI import, unless GOGC says
// otherwise: the heap may grow to 1.5 times what stays live between
// collections, not twice. What stays live grows with the file (the
// file-wide phone → loyalty ID check, about 36 bytes a phone, beside
// libphonenumber's metadata): about 60 MB at a million rows, where the
// default let the process pass 150 MB. A fixed memory limit instead would
// make the collector run without pause on files a few times larger.
const importGCPercent = 50

// importContacts runs `parley contacts import`: a progress bar on a
// terminal (rows, rows/s, time left), plain progress lines otherwise; each
// skipped row with its line and reason; a summary at the end.
func importContacts(ctx context.Context, st *store.Store, path, slug string, stdout, stderr io.Writer) error {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(importGCPercent))
	}
	b, err := st.BrandBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("--brand: no brand has the slug %q", slug)
	}
	if err != nil {
		return err
	}
	f, err := os.Open(path) //nolint:gosec // G304: the file the operator named on the command line
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	start := time.Now()
	var bar *progressbar.ProgressBar
	if tty, ok := stderr.(*os.File); ok && isatty.IsTerminal(tty.Fd()) {
		bar = progressbar.NewOptions64(info.Size(), progressbar.OptionSetWriter(stderr), progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetDescription("importing"), progressbar.OptionClearOnFinish())
	}
	lastLine := time.Time{}
	rate := func(rows int64) float64 {
		if s := time.Since(start).Seconds(); s > 0 {
			return float64(rows) / s
		}
		return 0
	}
	p, err := contact.NewService(st).Import(ctx, b, f, func(p contact.ImportProgress, skipped []store.ImportError) error {
		for _, s := range skipped {
			fmt.Fprintf(stdout, "line %d: %s\n", s.Line, s.Reason)
		}
		switch {
		case bar != nil:
			bar.Describe(fmt.Sprintf("%d rows · %.0f rows/s", p.Rows, rate(p.Rows)))
			_ = bar.Set64(p.Bytes)
		case time.Since(lastLine) >= 2*time.Second:
			lastLine = time.Now()
			pct := 0.0
			if info.Size() > 0 {
				pct = 100 * float64(p.Bytes) / float64(info.Size())
			}
			fmt.Fprintf(stderr, "importing: %d rows (%.0f%%), %.0f rows/s\n", p.Rows, pct, rate(p.Rows))
		}
		return nil
	})
	if bar != nil {
		_ = bar.Finish()
	}
	fmt.Fprintf(stdout, "imported %d of %d rows into %s (%d new contacts), skipped %d, in %s (%.0f rows/s)\n",
		p.Imported, p.Rows, b.Slug, p.Created, p.Skipped, time.Since(start).Round(time.Millisecond), rate(p.Rows))
	return err
}
