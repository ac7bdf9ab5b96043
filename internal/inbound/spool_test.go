package inbound

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func msg(i int) Record {
	return Record{Message: &Message{SID: fmt.Sprintf("SM%d", i), From: "+16465550101", To: "+15005550006", Body: "x", ReceivedAt: time.Now()}}
}

// A spool left by a crashed process is replayed by the next one; a torn last
// record (a crash mid-write) is ignored, not fatal.
func TestSpoolSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sp, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := sp.Append(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	sp.Close()
	segs, _ := os.ReadDir(dir)
	f, err := os.OpenFile(dir+"/"+segs[0].Name(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte{0, 0, 1, 0, 9, 9}) // half a header and nothing else
	f.Close()

	again, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Pending() != 3 {
		t.Fatalf("reopened spool counts %d, want 3", again.Pending())
	}
	var got []string
	n, err := again.Drain(func(r Record) error { got = append(got, r.Message.SID); return nil })
	if err != nil || n != 3 || fmt.Sprint(got) != "[SM0 SM1 SM2]" {
		t.Fatalf("drained %d %v err=%v", n, got, err)
	}
	if again.Pending() != 0 {
		t.Fatal("pending after drain")
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("drained segments left on disk: %v", left)
	}
}
