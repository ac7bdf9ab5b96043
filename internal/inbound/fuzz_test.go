package inbound

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadSegment: any bytes on disk in place of a spool segment (torn,
// truncated, garbage) read as the whole records before the damage or a
// clear error, never a panic or a huge allocation.
func FuzzReadSegment(f *testing.F) {
	dir := f.TempDir()
	sp, err := OpenSpool(dir)
	if err != nil {
		f.Fatal(err)
	}
	if err := sp.Append(Record{Message: &Message{SID: "SM1", From: "+12125550100", To: "+15005550006", Body: "hi"}}); err != nil {
		f.Fatal(err)
	}
	_ = sp.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, s := range segs {
		if b, err := os.ReadFile(s); err == nil && len(b) > 0 {
			f.Add(b)
			f.Add(b[:len(b)/2])
		}
	}
	f.Add([]byte{0, 0, 0, 5, 0, 0, 0, 0, 'x'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "seg")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		recs, err := readSegment(p)
		if err == nil {
			for _, r := range recs {
				_ = r.Message
			}
		}
	})
}
