package contact_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
)

// csvRows writes n contact rows (two phones for one row in ten, an
// attribute, marketing consent) to w, generated as they are read so the
// file never sits in memory.
type csvRows struct {
	n, i int
	buf  []byte
}

func (c *csvRows) Read(p []byte) (int, error) {
	for len(c.buf) < len(p) && c.i <= c.n {
		if c.i == 0 {
			c.buf = append(c.buf, "phones,loyalty_id,name,tier,points,consent_status\n"...)
		} else {
			phones := fmt.Sprintf("+1646%07d", 2_000_000+c.i)
			if c.i%10 == 0 {
				phones += fmt.Sprintf(";+1917%07d", 2_000_000+c.i)
			}
			c.buf = append(c.buf, fmt.Sprintf("%s,M%d,Member %d,gold,%d,opted_in\n", phones, c.i, c.i, c.i%5000)...)
		}
		c.i++
	}
	if len(c.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

// BenchmarkImport imports PARLEY_BENCH_IMPORT_ROWS rows (default 100,000)
// into an empty database and reports rows/s and the peak Go heap; the
// baseline, in the same run, is the same rows copied straight into a
// table of the same columns (COPY, no identity rules): what Postgres
// itself takes on this machine.
func BenchmarkImport(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_IMPORT_ROWS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		st, br := importBrand(b)
		ctx := context.Background()
		var peak uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
		start := time.Now()
		p, err := contact.NewService(st).Import(ctx, br, &csvRows{n: n}, func(contact.ImportProgress, []store.ImportError) error { return nil })
		took := time.Since(start)
		close(stop)
		<-done
		if err != nil || p.Imported != int64(n) {
			b.Fatalf("%+v %v", p, err)
		}
		// Baseline: COPY of the same rows into a plain table.
		if _, err := st.Pool.Exec(ctx, `CREATE TABLE copy_baseline (phones text, loyalty_id text, name text, tier text, points int, consent text)`); err != nil {
			b.Fatal(err)
		}
		rows := make([][]any, 0, 10_000)
		bstart := time.Now()
		for j := 1; j <= n; j++ {
			rows = append(rows, []any{fmt.Sprintf("+1646%07d", j), "M" + strconv.Itoa(j), "Member", "gold", j % 5000, "opted_in"})
			if len(rows) == cap(rows) || j == n {
				if _, err := st.Pool.CopyFrom(ctx, pgx.Identifier{"copy_baseline"}, []string{"phones", "loyalty_id", "name", "tier", "points", "consent"},
					pgx.CopyFromRows(rows)); err != nil {
					b.Fatal(err)
				}
				rows = rows[:0]
			}
		}
		btook := time.Since(bstart)
		rate, brate := float64(n)/took.Seconds(), float64(n)/btook.Seconds()
		b.ReportMetric(rate, "rows/s")
		b.ReportMetric(brate, "baseline_rows/s")
		b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MB")
		b.Logf("import: %d rows in %s = %.0f rows/s (peak heap %.1f MB); baseline COPY: %.0f rows/s; ratio %.2f",
			n, took.Round(time.Millisecond), rate, float64(peak)/(1<<20), brate, rate/brate)
	}
}
