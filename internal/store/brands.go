package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Brand is a company that publishes numbers and talks to its customers.
type Brand struct {
	ID       int64
	Slug     string
	Name     string
	Timezone string
	// DefaultCountry is the country (ISO 3166 alpha-2, "US") of a phone
	// number written without one.
	DefaultCountry string
	HelpText       string
	QuietStart     int // minutes after local midnight
	QuietEnd       int
	MarketingCap   int
	SLAMinutes     int // first-response target: a customer waiting longer is flagged in the inbox
	Numbers        []BrandNumber
	CreatedAt      time.Time
}

// BrandNumber is one sender number of a brand with its send rate.
type BrandNumber struct {
	Number  string
	BrandID int64
	MPS     int
}

// BrandInput is what `parley brand add` and the settings pages set. Zero values
// of optional fields leave the stored value alone on update.
type BrandInput struct {
	Slug     string
	Name     string
	Timezone string
	// DefaultCountry "" keeps the stored value ("US" for a new brand).
	DefaultCountry string
	HelpText       *string
	// SLAMinutes 0 keeps the stored value (or the column default, 15, for a
	// new brand).
	SLAMinutes int
	Numbers    []BrandNumber
}

// ErrSlugTaken is returned when a new brand's slug is already used.
var ErrSlugTaken = errors.New("a brand with this slug already exists")

// ErrNumberTaken is returned when a number already belongs to another brand.
var ErrNumberTaken = errors.New("number belongs to another brand")

// UpsertBrand creates the brand or updates it by slug, and adds or updates its numbers.
func (s *Store) UpsertBrand(ctx context.Context, in BrandInput) (Brand, error) {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO brands (slug, name, timezone, help_text, default_country)
			VALUES ($1, $2, coalesce(nullif($3, ''), 'America/New_York'), coalesce($4, ''), coalesce(nullif($5, ''), 'US'))
			ON CONFLICT (slug) DO UPDATE SET
				name = EXCLUDED.name,
				timezone = coalesce(nullif($3, ''), brands.timezone),
				help_text = coalesce($4, brands.help_text),
				default_country = coalesce(nullif($5, ''), brands.default_country),
				updated_at = now()
			RETURNING id`, in.Slug, in.Name, in.Timezone, in.HelpText, in.DefaultCountry).Scan(&id)
		if err != nil {
			return fmt.Errorf("store: upsert brand %s: %w", in.Slug, err)
		}
		if in.SLAMinutes > 0 {
			if _, err := tx.Exec(ctx, `UPDATE brands SET sla_minutes = $2 WHERE id = $1`, id, in.SLAMinutes); err != nil {
				return fmt.Errorf("store: upsert brand %s: %w", in.Slug, err)
			}
		}
		return putNumbers(ctx, tx, id, in.Numbers)
	})
	if err != nil {
		return Brand{}, err
	}
	return s.BrandBySlug(ctx, in.Slug)
}

const brandCols = `id, slug, name, timezone, default_country, help_text, quiet_start, quiet_end, marketing_cap, sla_minutes, created_at`

func scanBrand(row pgx.Row) (Brand, error) {
	var b Brand
	err := row.Scan(&b.ID, &b.Slug, &b.Name, &b.Timezone, &b.DefaultCountry, &b.HelpText, &b.QuietStart, &b.QuietEnd, &b.MarketingCap, &b.SLAMinutes, &b.CreatedAt)
	return b, err
}

// BrandBySlug returns the brand with its numbers, or ErrNotFound.
func (s *Store) BrandBySlug(ctx context.Context, slug string) (Brand, error) {
	b, err := scanBrand(s.Pool.QueryRow(ctx, `SELECT `+brandCols+` FROM brands WHERE slug = $1`, slug))
	if errors.Is(err, pgx.ErrNoRows) {
		return Brand{}, fmt.Errorf("store: brand %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return Brand{}, fmt.Errorf("store: brand %q: %w", slug, err)
	}
	rows, err := s.Pool.Query(ctx, `SELECT number, brand_id, mps FROM brand_numbers WHERE brand_id = $1 ORDER BY number`, b.ID)
	if err != nil {
		return Brand{}, fmt.Errorf("store: brand numbers: %w", err)
	}
	b.Numbers, err = pgx.CollectRows(rows, pgx.RowToStructByPos[BrandNumber])
	if err != nil {
		return Brand{}, fmt.Errorf("store: brand numbers: %w", err)
	}
	return b, nil
}

// BrandByID returns a brand (without its numbers), or ErrNotFound.
func (s *Store) BrandByID(ctx context.Context, id int64) (Brand, error) {
	b, err := scanBrand(s.Pool.QueryRow(ctx, `SELECT `+brandCols+` FROM brands WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Brand{}, fmt.Errorf("store: brand %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Brand{}, fmt.Errorf("store: brand %d: %w", id, err)
	}
	return b, nil
}

// Brands lists every brand with its numbers, by slug. Brands are few; the
// inbound path keeps this list in memory.
func (s *Store) Brands(ctx context.Context) ([]Brand, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+brandCols+` FROM brands ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("store: brands: %w", err)
	}
	brands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Brand, error) { return scanBrand(r) })
	if err != nil {
		return nil, fmt.Errorf("store: brands: %w", err)
	}
	rows, err = s.Pool.Query(ctx, `SELECT number, brand_id, mps FROM brand_numbers ORDER BY number`)
	if err != nil {
		return nil, fmt.Errorf("store: brand numbers: %w", err)
	}
	nums, err := pgx.CollectRows(rows, pgx.RowToStructByPos[BrandNumber])
	if err != nil {
		return nil, fmt.Errorf("store: brand numbers: %w", err)
	}
	idx := map[int64]int{}
	for i, b := range brands {
		idx[b.ID] = i
	}
	for _, n := range nums {
		if i, ok := idx[n.BrandID]; ok {
			brands[i].Numbers = append(brands[i].Numbers, n)
		}
	}
	return brands, nil
}

// putNumbers adds numbers to brand id, or sets the rate of those it already
// owns. ErrNumberTaken if one belongs to another brand.
func putNumbers(ctx context.Context, tx pgx.Tx, id int64, numbers []BrandNumber) error {
	for _, n := range numbers {
		var owner int64
		err := tx.QueryRow(ctx, `
			INSERT INTO brand_numbers (number, brand_id, mps) VALUES ($1, $2, $3)
			ON CONFLICT (number) DO UPDATE SET mps = EXCLUDED.mps
				WHERE brand_numbers.brand_id = EXCLUDED.brand_id
			RETURNING brand_id`, n.Number, id, n.MPS).Scan(&owner)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("store: number %s: %w", n.Number, ErrNumberTaken)
		}
		if err != nil {
			return fmt.Errorf("store: add number %s: %w", n.Number, err)
		}
	}
	return nil
}

// CreateBrand creates a brand and its numbers, refusing a slug in use with
// ErrSlugTaken (the console creates; `parley brand add` upserts).
func (s *Store) CreateBrand(ctx context.Context, in BrandInput) (Brand, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO brands (slug, name, timezone, help_text, sla_minutes)
			VALUES ($1, $2, coalesce(nullif($3, ''), 'America/New_York'), coalesce($4, ''), coalesce(nullif($5, 0), 15)) -- 15: the column default
			RETURNING id`, in.Slug, in.Name, in.Timezone, in.HelpText, in.SLAMinutes).Scan(&id)
		if isUniqueViolation(err) {
			return fmt.Errorf("store: create brand %s: %w", in.Slug, ErrSlugTaken)
		}
		if err != nil {
			return fmt.Errorf("store: create brand %s: %w", in.Slug, err)
		}
		return putNumbers(ctx, tx, id, in.Numbers)
	})
	if err != nil {
		return Brand{}, err
	}
	return s.BrandBySlug(ctx, in.Slug)
}

// UpdateBrand changes the settings of the brand slug (in.Slug is ignored: a
// slug never changes, other processes and URLs know the brand by it). An
// empty Timezone, a nil HelpText and a zero SLAMinutes keep the stored
// value; numbers are changed with PutBrandNumber and RemoveBrandNumber.
// ErrNotFound if there is no such brand.
func (s *Store) UpdateBrand(ctx context.Context, slug string, in BrandInput) (Brand, error) {
	tag, err := s.Pool.Exec(ctx, `
		UPDATE brands SET name = $2,
			timezone = coalesce(nullif($3, ''), timezone),
			help_text = coalesce($4, help_text),
			sla_minutes = coalesce(nullif($5, 0), sla_minutes),
			updated_at = now()
		WHERE slug = $1`, slug, in.Name, in.Timezone, in.HelpText, in.SLAMinutes)
	if err != nil {
		return Brand{}, fmt.Errorf("store: update brand %s: %w", slug, err)
	}
	if tag.RowsAffected() == 0 {
		return Brand{}, fmt.Errorf("store: update brand %q: %w", slug, ErrNotFound)
	}
	return s.BrandBySlug(ctx, slug)
}

// PutBrandNumber adds a sender number to the brand slug, or sets the rate of
// one it already owns. ErrNotFound if there is no such brand, ErrNumberTaken
// if the number belongs to another brand.
func (s *Store) PutBrandNumber(ctx context.Context, slug string, n BrandNumber) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM brands WHERE slug = $1`, slug).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("store: brand %q: %w", slug, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: brand %q: %w", slug, err)
		}
		return putNumbers(ctx, tx, id, []BrandNumber{n})
	})
}

// RemoveBrandNumber takes a sender number away from the brand slug. Its past
// messages keep the number as text. ErrNotFound if the brand does not exist
// or does not own the number.
func (s *Store) RemoveBrandNumber(ctx context.Context, slug, number string) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM brand_numbers n USING brands b
		WHERE n.number = $2 AND n.brand_id = b.id AND b.slug = $1`, slug, number)
	if err != nil {
		return fmt.Errorf("store: remove number %s of brand %s: %w", number, slug, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: number %s of brand %q: %w", number, slug, ErrNotFound)
	}
	return nil
}
