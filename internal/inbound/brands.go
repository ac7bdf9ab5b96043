package inbound

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// errBrandsUnavailable means the number is not in memory and Postgres could not
// be asked: the message is spooled rather than refused.
var errBrandsUnavailable = errors.New("inbound: brand list unavailable")

// Brands keeps every brand number in memory so the webhook finds its brand
// without a query. An unknown number triggers a reload (at most one a second),
// so a brand added by `parley brand add` in another process is seen at once.
type Brands struct {
	st *store.Store

	mu       sync.RWMutex
	byNumber map[string]store.Brand
	loadedAt time.Time
	reload   sync.Mutex
}

// NewBrands returns an empty cache that loads on first use.
func NewBrands(st *store.Store) *Brands { return &Brands{st: st} }

// ByNumber returns the brand that owns number, ErrUnknownNumber when none does.
func (b *Brands) ByNumber(ctx context.Context, number string) (store.Brand, error) {
	b.mu.RLock()
	br, ok := b.byNumber[number]
	fresh := time.Since(b.loadedAt) < 30*time.Second
	b.mu.RUnlock()
	if ok && fresh {
		return br, nil
	}
	if err := b.Load(ctx, time.Second); err != nil {
		if ok { // stale but known: good enough while Postgres is away
			return br, nil
		}
		return store.Brand{}, fmt.Errorf("%w: %v", errBrandsUnavailable, err)
	}
	b.mu.RLock()
	br, ok = b.byNumber[number]
	b.mu.RUnlock()
	if !ok {
		return store.Brand{}, fmt.Errorf("%w: %s", ErrUnknownNumber, number)
	}
	return br, nil
}

// Load reloads the numbers unless it was done less than minAge ago.
func (b *Brands) Load(ctx context.Context, minAge time.Duration) error {
	b.reload.Lock()
	defer b.reload.Unlock()
	b.mu.RLock()
	recent := b.byNumber != nil && time.Since(b.loadedAt) < minAge
	b.mu.RUnlock()
	if recent {
		return nil
	}
	brands, err := b.st.Brands(ctx)
	if err != nil {
		return err
	}
	m := map[string]store.Brand{}
	for _, br := range brands {
		for _, n := range br.Numbers {
			m[n.Number] = br
		}
	}
	b.mu.Lock()
	b.byNumber, b.loadedAt = m, time.Now()
	b.mu.Unlock()
	return nil
}
