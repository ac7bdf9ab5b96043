package contact_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
)

// Imports running together keep to the write slots: they hold at most
// ImportWriteSlots batch budgets of per-phone locks, plus the slots
// themselves. For a moment it can be twice that, while a committed batch is
// still releasing its locks and the next batch in its slot is taking its
// own. Without the slots and the budget, four imports of batches of 2,000
// rows with a loyalty ID each filled a default server's lock table and
// failed with "out of shared memory".
func TestConcurrentImportsKeepToTheWriteSlots(t *testing.T) {
	// Not parallel: the lock table is the server's, shared with every other
	// test's database, and this test fills its half of it on purpose.
	st, b := importBrand(t)
	ctx := context.Background()
	const imports, rows = 4, 8000
	files := make([]string, imports)
	for f := range files {
		var sb strings.Builder
		sb.WriteString("phone,loyalty_id,name\n")
		for i := range rows {
			fmt.Fprintf(&sb, "+1%03d555%04d,F%d-%d,Member %d\n", 212+f*100, i, f, i, i)
		}
		files[f] = sb.String()
	}
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan error, 1)
	go func() {
		var err error
		defer func() { sampled <- err }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			var n int64
			if err = st.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
				AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n); err != nil {
				return
			}
			if n > peak.Load() {
				peak.Store(n)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	svc := contact.NewService(st)
	var wg sync.WaitGroup
	errs := make([]error, imports)
	for f := range files {
		wg.Go(func() {
			_, errs[f] = svc.Import(ctx, b, strings.NewReader(files[f]), func(contact.ImportProgress, []store.ImportError) error { return nil })
		})
	}
	wg.Wait()
	close(stop)
	if err := <-sampled; err != nil {
		t.Fatal(err)
	}
	for f, err := range errs {
		if err != nil {
			t.Fatalf("import %d of %d at once: %v (peak %d)", f+1, imports, err, peak.Load())
		}
	}
	if n := count(t, st, `SELECT count(*) FROM contacts WHERE loyalty_id IS NOT NULL`); n != imports*rows {
		t.Fatalf("%d contacts with a loyalty ID, want %d", n, imports*rows)
	}
	budget, err := st.ImportKeyBudget(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p, limit := peak.Load(), int64(2*store.ImportWriteSlots*(budget+1)); p == 0 || p > limit {
		t.Fatalf("the imports held up to %d advisory locks at once, want 1..%d", p, limit)
	}
}

// A batch is cut at its budget of phones and loyalty IDs, however many
// phones its rows have, and a row with more phones than one contact may
// have is refused with the reason.
func TestImportBatchesCutAtTheirKeys(t *testing.T) {
	t.Parallel()
	st, b := importBrand(t)
	var sb strings.Builder
	sb.WriteString("phones,loyalty_id\n")
	const rows = 400 // 20 phones and a loyalty ID each: 8,400 keys, several batches' worth
	for i := range rows {
		ph := make([]string, 20)
		for k := range ph {
			ph[k] = fmt.Sprintf("+1212%03d%04d", 200+k, i)
		}
		fmt.Fprintf(&sb, "%s,W%d\n", strings.Join(ph, ";"), i)
	}
	ph := make([]string, 21)
	for k := range ph {
		ph[k] = fmt.Sprintf("+1646555%04d", k)
	}
	fmt.Fprintf(&sb, "%s,W-many\n", strings.Join(ph, ";"))
	var batches int
	var skipped []store.ImportError
	p, err := contact.NewService(st).Import(context.Background(), b, strings.NewReader(sb.String()), func(_ contact.ImportProgress, s []store.ImportError) error {
		batches++
		skipped = append(skipped, s...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Imported != rows || p.Skipped != 1 {
		t.Fatalf("imported %d, skipped %d; want %d and 1", p.Imported, p.Skipped, rows)
	}
	if len(skipped) != 1 || skipped[0].Line != rows+2 || !strings.Contains(skipped[0].Reason, "21 phones; at most 20") {
		t.Fatalf("skipped %+v, want line %d with 21 phones", skipped, rows+2)
	}
	if n := count(t, st, `SELECT count(*) FROM contact_phones`); n != rows*20 {
		t.Fatalf("%d phones stored, want %d", n, rows*20)
	}
	budget, err := st.ImportKeyBudget(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Each batch as full as the budget allows: 21 keys a row.
	perBatch := (budget - 21) / 21
	if want := (rows + perBatch - 1) / perBatch; batches < want || batches > want+1 {
		t.Fatalf("%d batches reported, want %d (or one more)", batches, want)
	}
}

// An import through a small pool still writes the rows that need the
// identity rules: it keeps a connection free for them. With both of a
// two-connection pool's connections held as sessions (the CLI's pool once),
// the first merge waited for a connection forever.
func TestImportOnASmallPoolWritesMerges(t *testing.T) {
	t.Parallel()
	big, b := importBrand(t)
	ctx := context.Background()
	runImport(t, contact.NewService(big), b, "phone,loyalty_id,name\n+12125550401,,Ana\n+12125550402,S2,Ben\n")
	u := big.Pool.Config().ConnString()
	small, err := store.Open(ctx, u, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	var p contact.ImportProgress
	go func() {
		var err error
		// Ana's phone with Ben's loyalty ID: two contacts, one person.
		p, err = contact.NewService(small).Import(ictx, b, strings.NewReader("phone,loyalty_id\n+12125550401,S2\n"),
			func(contact.ImportProgress, []store.ImportError) error { return nil })
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		cancel() // so that the pool can close
		<-done
		t.Fatal("an import on a pool of two connections never finished its merge")
	}
	if p.Imported != 1 || p.Skipped != 0 {
		t.Fatalf("imported %d, skipped %d; want 1 and 0", p.Imported, p.Skipped)
	}
	if n := count(t, big, `SELECT count(*) FROM contacts WHERE merged_into IS NULL`); n != 1 {
		t.Fatalf("%d live contacts after the merge, want 1", n)
	}
}
