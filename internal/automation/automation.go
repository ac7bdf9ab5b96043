// Package automation keeps each brand's routing settings and keyword
// auto-replies: it validates them with internal/routing's rules, stores them,
// and serves the inbound path from memory (Book), so a webhook reads nothing
// from Postgres to know whether a rule matches or the brand is closed.
package automation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/internal/routing"
	"github.com/parleyhq/parley/internal/store"
)

// MaxRules bounds a brand's auto-replies.
const MaxRules = 200

// ErrTooManyRules is returned when a brand already has MaxRules rules.
var ErrTooManyRules = errors.New("a brand has at most 200 auto-replies")

// Service reads and writes brand settings and auto-replies.
type Service struct {
	st   *store.Store
	book *Book
}

// NewService returns the service; book (may be nil) is told of every change
// made through it so this process sees it at once.
func NewService(st *store.Store, book *Book) *Service { return &Service{st: st, book: book} }

func (s *Service) changed() {
	if s.book != nil {
		s.book.Invalidate()
	}
}

// Brands returns every brand's compiled settings (from the book when there
// is one), for pages that show response targets.
func (s *Service) Brands(ctx context.Context) (map[int64]routing.Brand, error) {
	if s.book == nil {
		return NewBook(s.st, 0).All(ctx)
	}
	return s.book.All(ctx)
}

// Settings returns a brand's settings document: what it saved over the
// defaults.
func (s *Service) Settings(ctx context.Context, b store.Brand) (routing.Doc, error) {
	return loadDoc(ctx, s.st, b)
}

func loadDoc(ctx context.Context, st *store.Store, b store.Brand) (routing.Doc, error) {
	raw, err := st.BrandSettings(ctx, b.ID)
	if err != nil {
		return routing.Doc{}, err
	}
	return decodeDoc(b, raw)
}

func decodeDoc(b store.Brand, raw []byte) (routing.Doc, error) {
	d := routing.DefaultDoc(b.Timezone, b.SLAMinutes*60)
	if err := json.Unmarshal(raw, &d); err != nil {
		return d, fmt.Errorf("automation: settings of brand %s: %w", b.Slug, err)
	}
	d.Timezone = b.Timezone // the brand's own column is the one truth
	if d.Holidays == nil {
		d.Holidays = []routing.HolidayDoc{}
	}
	if d.TierPriority == nil {
		d.TierPriority = map[string]int{}
	}
	return d, nil
}

// PutSettings applies a PUT body over the brand's settings (fields left out
// keep their value) and stores the result; a bad value is a
// *routing.FieldError and nothing changes.
func (s *Service) PutSettings(ctx context.Context, b store.Brand, body []byte) (routing.Doc, error) {
	var next routing.Doc
	// Read, merge and write under the brand's settings row lock: two admins
	// changing different fields at once both keep their change.
	err := s.st.UpdateBrandSettings(ctx, b.ID, func(cur store.BrandSettingsRow) (store.BrandSettingsRow, error) {
		b.Timezone, b.SLAMinutes = cur.Timezone, cur.SLAMinutes
		doc, err := decodeDoc(b, cur.Doc)
		if err != nil {
			return cur, err
		}
		if next, err = routing.Merge(doc, body); err != nil {
			return cur, err
		}
		raw, err := json.Marshal(next)
		if err != nil {
			return cur, err
		}
		return store.BrandSettingsRow{Doc: raw, Timezone: next.Timezone, SLAMinutes: (next.FirstResponseSLASeconds + 59) / 60}, nil
	})
	if err != nil {
		return next, err
	}
	s.changed()
	return next, nil
}

// Rule is an auto-reply as a client writes it.
type Rule struct {
	Position    int
	Match       string
	Pattern     string
	Reply       string
	HandToAgent bool
}

func (r Rule) check() (Rule, error) {
	c, err := routing.Compile(routing.Rule{Match: r.Match, Pattern: r.Pattern, Reply: r.Reply})
	if err != nil {
		return r, err
	}
	if r.Position < 0 {
		return r, &routing.FieldError{Field: "position", Msg: "must be 1 or more (0 or absent: last)"}
	}
	r.Pattern = c.Pattern
	return r, nil
}

// Rules lists a brand's auto-replies in the order they are tried, a page at
// a time after (position, id).
func (s *Service) Rules(ctx context.Context, brandID int64, afterPos int, afterID int64, limit int) ([]store.AutoReply, error) {
	return s.st.AutoReplies(ctx, brandID, afterPos, afterID, limit)
}

// Rule returns one of the brand's auto-replies.
func (s *Service) Rule(ctx context.Context, brandID, id int64) (store.AutoReply, error) {
	return s.st.AutoReply(ctx, brandID, id)
}

// CreateRule validates and adds an auto-reply (last unless a position is
// given).
func (s *Service) CreateRule(ctx context.Context, brandID int64, r Rule) (store.AutoReply, error) {
	r, err := r.check()
	if err != nil {
		return store.AutoReply{}, err
	}
	existing, err := s.st.AutoReplies(ctx, brandID, 0, 0, MaxRules)
	if err != nil {
		return store.AutoReply{}, err
	}
	if len(existing) >= MaxRules {
		return store.AutoReply{}, ErrTooManyRules
	}
	a, err := s.st.SaveAutoReply(ctx, store.AutoReply{BrandID: brandID, Position: r.Position, Match: r.Match,
		Pattern: r.Pattern, Reply: r.Reply, HandToAgent: r.HandToAgent})
	if err == nil {
		s.changed()
	}
	return a, err
}

// UpdateRule validates and replaces one of the brand's auto-replies; a
// position of 0 keeps the rule where it is.
func (s *Service) UpdateRule(ctx context.Context, brandID, id int64, r Rule) (store.AutoReply, error) {
	r, err := r.check()
	if err != nil {
		return store.AutoReply{}, err
	}
	cur, err := s.st.AutoReply(ctx, brandID, id)
	if err != nil {
		return cur, err
	}
	if r.Position == 0 {
		r.Position = cur.Position
	}
	a, err := s.st.SaveAutoReply(ctx, store.AutoReply{ID: id, BrandID: brandID, Position: r.Position, Match: r.Match,
		Pattern: r.Pattern, Reply: r.Reply, HandToAgent: r.HandToAgent})
	if err == nil {
		s.changed()
	}
	return a, err
}

// DeleteRule removes one of the brand's auto-replies.
func (s *Service) DeleteRule(ctx context.Context, brandID, id int64) error {
	err := s.st.DeleteAutoReply(ctx, brandID, id)
	if err == nil {
		s.changed()
	}
	return err
}

// Book holds every brand's compiled settings and rules in memory for the
// inbound path. It reloads when told of a change in this process and at
// least every refresh interval, so a change made by another process is seen
// within it.
type Book struct {
	st      *store.Store
	refresh time.Duration

	mu       sync.RWMutex
	brands   map[int64]routing.Brand
	loadedAt time.Time // last load attempt that succeeded, or failed after one had (stale copy kept)
	reload   sync.Mutex
	// reloading: a background reload is running.
	reloading atomic.Bool
}

// NewBook returns an empty book that loads on first use; refresh 0 means 5 s.
func NewBook(st *store.Store, refresh time.Duration) *Book {
	if refresh <= 0 {
		refresh = 5 * time.Second
	}
	return &Book{st: st, refresh: refresh}
}

// Invalidate reloads at once (a change made in this process is seen by
// its next text); if the reload fails, the next lookup tries again.
func (b *Book) Invalidate() {
	b.mu.Lock()
	b.loadedAt = time.Time{}
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.load(ctx); err != nil {
		b.mu.Lock()
		b.loadedAt = time.Time{}
		b.mu.Unlock()
	}
}

// For returns the brand's routing settings from memory. Stale ones are
// served while a reload runs in the background, so a webhook never waits on
// Postgres for them; only the very first use waits, for at most a second (a
// brand never loaded is always open, with no rules: the text still reaches
// a person).
func (b *Book) For(ctx context.Context, brand store.Brand) routing.Settings {
	b.mu.RLock()
	s, loaded, fresh := b.brands[brand.ID], b.brands != nil, time.Since(b.loadedAt) < b.refresh
	b.mu.RUnlock()
	switch {
	case fresh:
		return s.Settings
	case loaded:
		b.reloadInBackground()
		return s.Settings
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_ = b.load(ctx)
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.brands[brand.ID].Settings
}

func (b *Book) reloadInBackground() {
	if !b.reloading.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer b.reloading.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.load(ctx)
	}()
}

// All returns every brand's settings by brand id, reloading first if they
// are older than the refresh interval.
func (b *Book) All(ctx context.Context) (map[int64]routing.Brand, error) {
	err := b.load(ctx)
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make(map[int64]routing.Brand, len(b.brands))
	for id, br := range b.brands {
		out[id] = br
	}
	return out, err
}

func (b *Book) load(ctx context.Context) error {
	b.reload.Lock()
	defer b.reload.Unlock()
	b.mu.RLock()
	fresh := b.brands != nil && time.Since(b.loadedAt) < b.refresh
	b.mu.RUnlock()
	if fresh {
		return nil
	}
	failed := func(err error) error {
		// Keep serving the copy in memory and try again after the refresh
		// interval, rather than on every text while Postgres is away.
		b.mu.Lock()
		if b.brands != nil {
			b.loadedAt = time.Now()
		}
		b.mu.Unlock()
		return err
	}
	brands, err := b.st.Brands(ctx)
	if err != nil {
		return failed(err)
	}
	docs, err := b.st.AllBrandSettings(ctx)
	if err != nil {
		return failed(err)
	}
	rules, err := b.st.AllAutoReplies(ctx)
	if err != nil {
		return failed(err)
	}
	out := make(map[int64]routing.Brand, len(brands))
	for _, br := range brands {
		raw, ok := docs[br.ID]
		if !ok {
			raw = []byte("{}")
		}
		d, err := decodeDoc(br, raw)
		if err != nil {
			return failed(err)
		}
		c, err := d.Compile()
		if err != nil {
			return failed(fmt.Errorf("automation: stored settings of brand %s: %w", br.Slug, err))
		}
		out[br.ID] = c
	}
	for _, r := range rules {
		c, err := routing.Compile(routing.Rule{ID: r.ID, Position: r.Position, Match: r.Match, Pattern: r.Pattern,
			Reply: r.Reply, HandToAgent: r.HandToAgent})
		if err != nil {
			continue // validated when saved; a rule that no longer compiles is skipped, not fatal
		}
		s := out[r.BrandID]
		s.Rules = append(s.Rules, c)
		out[r.BrandID] = s
	}
	b.mu.Lock()
	b.brands, b.loadedAt = out, time.Now()
	b.mu.Unlock()
	return nil
}
