package contact

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/store/storetest"
)

// Uploads beyond MaxRunningImports wait their turn: the next one starts
// only when a running one ends.
func TestRunImportWaitsForARunningSlot(t *testing.T) {
	st, _ := storetest.New(t)
	ctx := context.Background()
	b, err := st.UpsertBrand(ctx, store.BrandInput{Slug: "demo-air", Name: "Demo Air"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(t.TempDir(), "upload-*.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("phone,name\n+12125550501,Ana\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	id, err := st.CreateImport(ctx, b.ID, "upload.csv", "test")
	if err != nil {
		t.Fatal(err)
	}
	// Every slot taken, as by two uploads still running.
	for range MaxRunningImports {
		runningImports <- struct{}{}
	}
	released := 0
	defer func() {
		for ; released < MaxRunningImports; released++ {
			<-runningImports
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		NewService(st).RunImport(ctx, slog.New(slog.DiscardHandler), id, b, f)
	}()
	select {
	case <-done:
		t.Fatal("an upload ran while every running slot was taken")
	case <-time.After(300 * time.Millisecond):
	}
	if m, err := st.ImportByID(ctx, id); err != nil || m.Imported != 0 {
		t.Fatalf("while waiting: %+v %v, want nothing imported", m, err)
	}
	<-runningImports // one running upload ends
	released++
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the waiting upload never started")
	}
	if m, err := st.ImportByID(ctx, id); err != nil || m.Imported != 1 || m.Failure != "" {
		t.Fatalf("after its turn: %+v %v, want one row imported", m, err)
	}
}
