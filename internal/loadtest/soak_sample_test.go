package loadtest

import "testing"

// TestCountGoroutines: a goroutine profile's total, and the goroutines of
// idle pooled HTTP connections in it.
func TestCountGoroutines(t *testing.T) {
	prof := "goroutine profile: total 9\n" +
		"3 @ 0x1 0x2\n#\t0x1\tinternal/poll.runtime_pollWait+0x85\t/go/src/runtime/netpoll.go:351\n#\t0x2\tnet/http.(*persistConn).readLoop+0x1\t/go/src/net/http/transport.go:2395\n\n" +
		"3 @ 0x3\n#\t0x3\tnet/http.(*persistConn).writeLoop+0x1\t/go/src/net/http/transport.go:2597\n\n" +
		"2 @ 0x4\n#\t0x4\tgithub.com/hibiken/asynq.(*processor).exec.func1+0x1\t/x/processor.go:199\n\n" +
		"1 @ 0x5\n#\t0x5\truntime/pprof.writeGoroutineStacks+0x1\t/go/src/runtime/pprof/pprof.go:819\n"
	if total, pooled := countGoroutines(prof); total != 9 || pooled != 6 {
		t.Fatalf("total %d pooled %d, want 9 and 6", total, pooled)
	}
	if total, _ := countGoroutines("404 page not found"); total != -1 {
		t.Fatalf("not a profile: total %d, want -1", total)
	}
}
