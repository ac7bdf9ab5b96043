package outbound

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// claimer groups the claims of concurrent send tasks into one statement and
// one commit (a commit flushes the WAL, and the claim must be durable before
// the carrier is called, so it is the one write a send cannot skip).
type claimer struct {
	st   *store.Store
	reqs chan claimReq
	// latency is a moving average of a claim's round trip (ns): a sender
	// claims that long before its slot, so the claim is as late as it can be.
	latency atomic.Int64
	// marks, when set, are the phones whose opt-out waits in a web
	// process's spool: read before every claim, their texts left queued.
	marks PhoneSet
}

// PhoneSet is the set of phones whose opt-out a web process answered and
// has not stored yet (queue.SpooledOptOuts in production).
type PhoneSet interface {
	Phones(ctx context.Context) ([]string, error)
}

// observe folds one claim's round trip into the moving average.
func (c *claimer) observe(d time.Duration) {
	old := c.latency.Load()
	if old == 0 {
		c.latency.Store(int64(d))
		return
	}
	c.latency.Store(old + (int64(d)-old)/8)
}

// lead is how long before its slot a sender claims: a few claim round trips,
// at least 5 ms and at most 60 ms.
func (c *claimer) lead() time.Duration {
	return min(max(3*time.Duration(c.latency.Load()), 5*time.Millisecond), 60*time.Millisecond)
}

type claimReq struct {
	id   int64
	resp chan claimResp
}

type claimResp struct {
	c     store.SendCandidate
	ok    bool
	token int64 // the claim's token, to give it back with
	err   error
}

func newClaimer(st *store.Store) *claimer {
	c := &claimer{st: st, reqs: make(chan claimReq, 256)}
	for i := 0; i < 2; i++ {
		go c.loop()
	}
	return c
}

func (c *claimer) claim(ctx context.Context, id int64) (store.SendCandidate, bool, int64, error) {
	r := claimReq{id: id, resp: make(chan claimResp, 1)}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		return store.SendCandidate{}, false, 0, ctx.Err()
	}
	res := <-r.resp
	return res.c, res.ok, res.token, res.err
}

func (c *claimer) loop() {
	batch := make([]claimReq, 0, 64)
	for r := range c.reqs {
		batch = append(batch[:0], r)
	fill:
		for len(batch) < cap(batch) {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		c.run(batch)
	}
}

// run claims one batch and answers each of its requesters.
func (c *claimer) run(batch []claimReq) {
	ids := make([]int64, 0, len(batch))
	for _, r := range batch {
		ids = append(ids, r.id)
	}
	token := rand.Int64() //nolint:gosec // G404: tells one claim from another, guards against no adversary
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	start := time.Now()
	var exclude []string
	var err error
	if c.marks != nil {
		// Before the claim: an opt-out spooled after this read and before
		// the claim is as one that came after the claim.
		exclude, err = c.marks.Phones(ctx)
	}
	var got map[int64]store.SendCandidate
	if err == nil {
		got, err = c.st.ClaimManyForSend(ctx, ids, token, exclude)
	}
	cancel()
	c.observe(time.Since(start))
	if err != nil {
		// The claim may have committed all the same (a timeout or a lost
		// connection after the commit): give back whatever it claimed, so
		// none of these texts waits for the reconciler for nothing.
		go func() { _ = releaseClaims(c.st, ids, token) }() // what it cannot give back waits for the reconciler
	}
	for _, r := range batch {
		// Two tasks of one message in one batch (a task enqueued again
		// while the first still waited): only the first requester owns
		// the claim; the other is told it is taken.
		cand, ok := got[r.id]
		delete(got, r.id)
		r.resp <- claimResp{c: cand, ok: ok, token: token, err: err}
	}
}

// releaseClaims gives back claims made with token, trying for about a
// minute; what it cannot give back waits for the reconciler, which finds
// nothing at the carrier and queues the text again.
func releaseClaims(st *store.Store, ids []int64, token int64) error {
	var err error
	for i := 0; i < 6; i++ {
		if i > 0 {
			time.Sleep(time.Duration(1<<i) * 500 * time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = st.ReleaseClaims(ctx, ids, token)
		cancel()
		if err == nil {
			return nil
		}
	}
	return err
}

// sentRecorder groups the SIDs of concurrent sends into one statement.
type sentRecorder struct {
	st   *store.Store
	reqs chan sentReq
}

type sentReq struct {
	s    store.Sent
	resp chan error
}

func newSentRecorder(st *store.Store) *sentRecorder {
	r := &sentRecorder{st: st, reqs: make(chan sentReq, 256)}
	go r.loop()
	return r
}

func (r *sentRecorder) write(sent []store.Sent) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return recordSent(ctx, r.st, sent)
}

// record waits until the SID is written, so a task is done only once its
// outcome is stored.
func (r *sentRecorder) record(ctx context.Context, s store.Sent) error {
	q := sentReq{s: s, resp: make(chan error, 1)}
	r.reqs <- q
	return <-q.resp
}

func (r *sentRecorder) loop() {
	batch := make([]sentReq, 0, 128)
	for q := range r.reqs {
		batch = append(batch[:0], q)
	fill:
		for len(batch) < cap(batch) {
			select {
			case q := <-r.reqs:
				batch = append(batch, q)
			default:
				break fill
			}
		}
		sent := make([]store.Sent, len(batch))
		for i, q := range batch {
			sent[i] = q.s
		}
		if err := r.write(sent); err != nil && len(batch) > 1 {
			// One bad row fails the statement: record each on its own.
			for _, q := range batch {
				q.resp <- r.write([]store.Sent{q.s})
			}
			continue
		} else {
			for _, q := range batch {
				q.resp <- err
			}
		}
	}
}
