package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Campaign is a campaign as stored.
type Campaign struct {
	ID            int64
	BrandID       int64
	BrandSlug     string
	Name          string
	Variants      []string
	Audience      json.RawMessage // the audience document as given (the campaign package reads it)
	Numbers       []string
	TrackLinks    bool
	State         string
	StateReason   string
	ScheduledAt   *time.Time
	LocalTime     string
	FailThreshold float64
	CreatedBy     string
	CreatedAt     time.Time
	StartedAt     *time.Time
	CompletedAt   *time.Time
	// QuestionID is the question every text of the campaign asks (0 none),
	// answered within QuestionWindow.
	QuestionID     int64
	QuestionWindow time.Duration
}

// ErrWrongState is returned when a campaign is not in a state the change
// may start from.
var ErrWrongState = errors.New("the campaign is not in a state that allows this")

const campaignCols = `c.id, c.brand_id, b.slug, c.name, c.variants, c.audience, c.numbers, c.track_links, c.state, c.state_reason,
	c.scheduled_at, c.local_time, c.fail_threshold, c.created_by, c.created_at, c.started_at, c.completed_at,
	coalesce(c.question_id, 0), coalesce((SELECT q.window_seconds FROM questions q WHERE q.id = c.question_id), 0)`

func scanCampaign(r pgx.Row) (Campaign, error) {
	var c Campaign
	var variants []byte
	var window int64
	err := r.Scan(&c.ID, &c.BrandID, &c.BrandSlug, &c.Name, &variants, &c.Audience, &c.Numbers, &c.TrackLinks, &c.State,
		&c.StateReason, &c.ScheduledAt, &c.LocalTime, &c.FailThreshold, &c.CreatedBy, &c.CreatedAt, &c.StartedAt, &c.CompletedAt,
		&c.QuestionID, &window)
	if err != nil {
		return c, err
	}
	c.QuestionWindow = time.Duration(window) * time.Second
	return c, json.Unmarshal(variants, &c.Variants)
}

// CreateCampaign stores a draft campaign.
func (s *Store) CreateCampaign(ctx context.Context, c Campaign) (Campaign, error) {
	variants, err := json.Marshal(c.Variants)
	if err != nil {
		return c, err
	}
	if len(c.Audience) == 0 {
		c.Audience = json.RawMessage(`{}`)
	}
	if c.Numbers == nil {
		c.Numbers = []string{}
	}
	var id int64
	if err := s.Pool.QueryRow(ctx, `INSERT INTO campaigns (brand_id, name, variants, audience, numbers, track_links, fail_threshold, created_by,
			question_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9, 0)) RETURNING id`, c.BrandID, c.Name, variants, c.Audience, c.Numbers,
		c.TrackLinks, c.FailThreshold, c.CreatedBy, c.QuestionID).Scan(&id); err != nil {
		return c, fmt.Errorf("store: create campaign: %w", err)
	}
	return s.CampaignByID(ctx, id)
}

// CampaignByID returns a campaign, or ErrNotFound.
func (s *Store) CampaignByID(ctx context.Context, id int64) (Campaign, error) {
	c, err := scanCampaign(s.Pool.QueryRow(ctx, `SELECT `+campaignCols+` FROM campaigns c JOIN brands b ON b.id = c.brand_id WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("store: campaign %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: campaign %d: %w", id, err)
	}
	return c, nil
}

// Campaigns lists campaigns of brandIDs (nil: every brand), newest first,
// with ids below before (0: from the newest).
func (s *Store) Campaigns(ctx context.Context, brandIDs []int64, before int64, limit int) ([]Campaign, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+campaignCols+` FROM campaigns c JOIN brands b ON b.id = c.brand_id
		WHERE c.id < $1 AND ($2::bigint[] IS NULL OR c.brand_id = ANY($2)) ORDER BY c.id DESC LIMIT $3`, before, brandIDs, limit)
	if err != nil {
		return nil, fmt.Errorf("store: campaigns: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Campaign, error) { return scanCampaign(r) })
	if err != nil {
		return nil, fmt.Errorf("store: campaigns: %w", err)
	}
	return out, nil
}

// ScheduleCampaign moves a draft to scheduled, to start at at; localTime
// ("10:00", or "") sends each recipient's text at that time of their day.
func (s *Store) ScheduleCampaign(ctx context.Context, id int64, at time.Time, localTime string) error {
	return s.campaignState(ctx, id, `UPDATE campaigns SET state = 'scheduled', scheduled_at = $2, local_time = $3, state_reason = '',
		updated_at = now() WHERE id = $1 AND state = 'draft'`, at, localTime)
}

func (s *Store) campaignState(ctx context.Context, id int64, sql string, args ...any) error {
	tag, err := s.Pool.Exec(ctx, sql, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("store: campaign %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.CampaignByID(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("store: campaign %d: %w", id, ErrWrongState)
	}
	return nil
}

// ActiveCampaigns lists the campaigns scheduled or running.
func (s *Store) ActiveCampaigns(ctx context.Context) ([]Campaign, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+campaignCols+` FROM campaigns c JOIN brands b ON b.id = c.brand_id
		WHERE c.state IN ('scheduled', 'running') ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("store: active campaigns: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Campaign, error) { return scanCampaign(r) })
	if err != nil {
		return nil, fmt.Errorf("store: active campaigns: %w", err)
	}
	return out, nil
}

// StartCampaign materialises a scheduled campaign's recipients in one
// statement and sets it running: each person of the audience once (their
// phone chosen as buildAudience says), on variant (row number in a
// campaign-seeded shuffle) mod variants, so the split is even and the same
// on any rerun. A person who may not be sent marketing is recorded as
// skipped with the reason when the audience names people; a filter
// audience holds only those who may. It returns the recipients and
// reports false when the campaign was not scheduled (another process
// started it).
func (s *Store) StartCampaign(ctx context.Context, id int64, aud Audience, variants int) (n int64, started bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var brandID int64
		err := tx.QueryRow(ctx, `SELECT brand_id FROM campaigns WHERE id = $1 AND state = 'scheduled' FOR UPDATE SKIP LOCKED`, id).Scan(&brandID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		sql, args, err := buildAudience(brandID, aud, id, max(variants, 1), aud.Explicit())
		if err != nil {
			return err
		}
		// The per-person choice of phone and the shuffle each sort the whole
		// audience: at the default 4 MB they spilled to disk from about
		// 50,000 people on. The planner's cost for the statement calls for
		// JIT compilation, which took half a second of the 2 at 100,000
		// people and saved nothing.
		if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
			return err
		}
		// Rows go in in key order (the shuffle only numbers them), so the
		// primary key grows at its end rather than page by random page. One
		// body needs no shuffle: its sort was half the start at 1,000,000.
		variant := `(row_number() OVER (ORDER BY md5($2::bigint::text || ':' || a.contact_id)) - 1) % $3::int`
		if variants <= 1 {
			variant = `0 * $3::int`
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO campaign_recipients (campaign_id, contact_id, phone, variant, state, reason)
			SELECT $2::bigint, a.contact_id, a.phone, `+variant+`,
				CASE WHEN `+exclusion+` = '' THEN 'pending' ELSE 'skipped' END, `+exclusion+`
			FROM (`+sql+`) a
			WHERE $4::boolean OR `+exclusion+` = ''
			ORDER BY a.contact_id`, args...)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		if _, err := tx.Exec(ctx, `UPDATE campaigns SET state = 'running', started_at = now(), updated_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		started = true
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: start campaign %d: %w", id, err)
	}
	return n, started, nil
}

// Recipient is a campaign recipient waiting for its text, with what a
// template sees of them.
type Recipient struct {
	ContactID  int64
	Phone      string
	Variant    int
	Name       string
	LoyaltyID  string
	Attributes map[string]any
	Timezone   string
	Merged     bool // merged into another contact since the campaign started: skipped
}

// Outgoing is what the fan-out decided for one recipient: a text, or a
// reason to skip them.
type Outgoing struct {
	ContactID int64
	Skip      string // why the recipient gets no text ("" to send)
	From      string
	Body      string
	SendAt    *time.Time
	Segments  int
	Encoding  string
	Links     []Link
}

// Link is a tracked link of one recipient's text.
type Link struct {
	Code, URL string
}

// Fanned is a campaign text just stored, for its send task.
type Fanned struct {
	ID     int64
	From   string
	SendAt *time.Time
}

// FanOut stores the texts of the next limit pending recipients of a running
// campaign in one transaction: decide gets them (in contact order) and
// says, per recipient, the text or why not. Each recipient's message id is
// set in the same transaction as its text, so a recipient is texted at most
// once whatever crashes; the campaign row's lock (skipped when another
// process holds it) keeps two fan-outs apart. A campaign text opens the
// conversation (closed: nobody waits yet) when the person has none.
func (s *Store) FanOut(ctx context.Context, id int64, limit int, decide func(c Campaign, rs []Recipient) ([]Outgoing, error)) ([]Fanned, int, error) {
	var out []Fanned
	var handled int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := scanCampaign(tx.QueryRow(ctx, `SELECT `+campaignCols+` FROM campaigns c JOIN brands b ON b.id = c.brand_id
			WHERE c.id = $1 AND c.state = 'running' FOR UPDATE OF c SKIP LOCKED`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT r.contact_id, r.phone, r.variant, ct.name, coalesce(ct.loyalty_id, ''), ct.attributes, ct.timezone,
				ct.merged_into IS NOT NULL
			FROM campaign_recipients r JOIN contacts ct ON ct.id = r.contact_id
			WHERE r.campaign_id = $1 AND r.state = 'pending' ORDER BY r.contact_id LIMIT $2`, id, limit)
		if err != nil {
			return err
		}
		rs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Recipient, error) {
			var x Recipient
			var attrs []byte
			err := r.Scan(&x.ContactID, &x.Phone, &x.Variant, &x.Name, &x.LoyaltyID, &attrs, &x.Timezone, &x.Merged)
			if err == nil {
				err = json.Unmarshal(attrs, &x.Attributes)
			}
			return x, err
		})
		if err != nil || len(rs) == 0 {
			return err
		}
		outs, err := decide(c, rs)
		if err != nil {
			return err
		}
		handled = len(outs)
		phone := map[int64]string{}
		for _, r := range rs {
			phone[r.ContactID] = r.Phone
		}
		var skipIDs []int64
		var skipWhy []string
		var cids []int64
		var tos, froms, bodies, encs []string
		var segs []int
		var ats []*time.Time
		var codes, urls []string
		var linkContacts []int64
		var linkVariants []int
		variant := map[int64]int{}
		for _, r := range rs {
			variant[r.ContactID] = r.Variant
		}
		for _, o := range outs {
			if o.Skip != "" {
				skipIDs, skipWhy = append(skipIDs, o.ContactID), append(skipWhy, o.Skip)
				continue
			}
			cids, tos, froms, bodies = append(cids, o.ContactID), append(tos, phone[o.ContactID]), append(froms, o.From), append(bodies, o.Body)
			segs, encs, ats = append(segs, o.Segments), append(encs, o.Encoding), append(ats, o.SendAt)
			for _, l := range o.Links {
				codes, urls = append(codes, l.Code), append(urls, l.URL)
				linkContacts, linkVariants = append(linkContacts, o.ContactID), append(linkVariants, variant[o.ContactID])
			}
		}
		if len(skipIDs) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE campaign_recipients r SET state = 'skipped', reason = v.why
				FROM unnest($2::bigint[], $3::text[]) v(contact_id, why) WHERE r.campaign_id = $1 AND r.contact_id = v.contact_id AND r.state = 'pending'`,
				id, skipIDs, skipWhy); err != nil {
				return err
			}
		}
		if len(cids) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO conversations (brand_id, contact_id, last_phone, status)
			SELECT $1, v.contact_id, v.phone, 'closed' FROM unnest($2::bigint[], $3::text[]) v(contact_id, phone)
			ON CONFLICT (brand_id, contact_id) WHERE merged_into IS NULL DO NOTHING`, c.BrandID, cids, tos); err != nil {
			return err
		}
		// The texts, then each recipient's message id by its primary key (a
		// join of the insert's result to the recipients inside one statement
		// was planned as a scan of every recipient per text: 70 s a batch
		// at 100,000 recipients).
		mrows, err := tx.Query(ctx, `
			WITH v AS (SELECT * FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::timestamptz[])
				AS v(contact_id, phone, from_number, body, segments, encoding, send_at))
			INSERT INTO messages (conversation_id, brand_id, direction, body, from_number, to_number, status, purpose, origin,
				origin_ref, queue, send_at, segments, encoding)
			SELECT cv.id, $1, 'outbound', v.body, v.from_number, v.phone, 'queued', 'marketing', 'campaign', $2::bigint::text, 'bulk',
				v.send_at, v.segments, v.encoding
			FROM v, LATERAL (SELECT id FROM conversations WHERE brand_id = $1 AND contact_id = v.contact_id AND merged_into IS NULL LIMIT 1) cv
			RETURNING id, conversation_id, from_number, send_at`,
			c.BrandID, id, cids, tos, froms, bodies, segs, encs, ats)
		if err != nil {
			return err
		}
		var convIDs []int64
		for mrows.Next() {
			var f Fanned
			var conv int64
			if err := mrows.Scan(&f.ID, &conv, &f.From, &f.SendAt); err != nil {
				mrows.Close()
				return err
			}
			out = append(out, f)
			convIDs = append(convIDs, conv)
		}
		if err := mrows.Err(); err != nil {
			return err
		}
		crows, err := tx.Query(ctx, `SELECT id, contact_id FROM conversations WHERE id = ANY($1)`, convIDs)
		if err != nil {
			return err
		}
		contactOf := map[int64]int64{}
		var cid, conv int64
		if _, err := pgx.ForEachRow(crows, []any{&conv, &cid}, func() error {
			contactOf[conv] = cid
			return nil
		}); err != nil {
			return err
		}
		msgIDs, msgContacts := make([]int64, len(out)), make([]int64, len(out))
		for i, f := range out {
			msgIDs[i], msgContacts[i] = f.ID, contactOf[convIDs[i]]
		}
		tag, err := tx.Exec(ctx, `UPDATE campaign_recipients r SET state = 'queued', message_id = v.mid
			FROM unnest($2::bigint[], $3::bigint[]) v(contact_id, mid)
			WHERE r.campaign_id = $1 AND r.contact_id = v.contact_id AND r.state = 'pending'`, id, msgContacts, msgIDs)
		if err != nil {
			return err
		}
		if int(tag.RowsAffected()) != len(out) {
			// A recipient whose row did not move to queued would get its
			// text and stay pending: texted twice on the next batch.
			return fmt.Errorf("fan-out stored %d texts but marked %d recipients", len(out), tag.RowsAffected())
		}
		if c.QuestionID != 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO question_asks (question_id, brand_id, contact_id, conversation_id, message_id, origin, expires_at)
				SELECT $1, $2, v.contact_id, v.conv, v.mid, 'campaign', greatest(now(), coalesce(m.send_at, now())) + $6::interval
				FROM unnest($3::bigint[], $4::bigint[], $5::bigint[]) v(contact_id, conv, mid) JOIN messages m ON m.id = v.mid`,
				c.QuestionID, c.BrandID, msgContacts, convIDs, msgIDs, c.QuestionWindow.String()); err != nil {
				return err
			}
		}
		if len(codes) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO campaign_links (code, campaign_id, contact_id, variant, url)
				SELECT v.code, $1, v.contact_id, v.variant, v.url FROM unnest($2::text[], $3::bigint[], $4::int[], $5::text[]) v(code, contact_id, variant, url)`,
				id, codes, linkContacts, linkVariants, urls); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: fan out campaign %d: %w", id, err)
	}
	return out, handled, nil
}

// CampaignInFlight counts a campaign's texts due within ahead that have not
// gone yet: the fan-out keeps a bounded number ahead of the sending, so a
// pause has little to stop.
func (s *Store) CampaignInFlight(ctx context.Context, id int64, ahead time.Duration) (int, error) {
	var n int
	err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE origin = 'campaign' AND origin_ref = $1
		AND status IN ('queued', 'held', 'sending') AND coalesce(held_until, send_at, now()) < now() + $2::interval`,
		strconv.FormatInt(id, 10), ahead.String()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: campaign %d in flight: %w", id, err)
	}
	return n, nil
}

// PauseCampaign pauses a running (or scheduled) campaign. Its texts not
// yet claimed by a sender are taken back — deleted, under their row locks,
// so a send task that wakes for one finds nothing — and their recipients
// are pending again: sending stops at once, and a resume fans them out
// anew (fresh texts, fresh tasks), each still exactly once. Texts already
// claimed or at the carrier finish.
func (s *Store) PauseCampaign(ctx context.Context, id int64, reason string) error {
	return s.campaignTx(ctx, id, func(tx pgx.Tx) (bool, error) {
		tag, err := tx.Exec(ctx, `UPDATE campaigns SET state = 'paused', state_reason = $2, updated_at = now()
			WHERE id = $1 AND state IN ('running', 'scheduled')`, id, reason)
		if err != nil || tag.RowsAffected() == 0 {
			return false, err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM messages WHERE origin = 'campaign' AND origin_ref = $1 AND status IN ('queued', 'held')
			ORDER BY id FOR UPDATE`, strconv.FormatInt(id, 10))
		if err != nil {
			return false, err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(ids) == 0 {
			return true, err
		}
		if _, err := tx.Exec(ctx, `UPDATE campaign_recipients SET state = 'pending', message_id = NULL
			WHERE campaign_id = $1 AND message_id = ANY($2)`, id, ids); err != nil {
			return false, err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM campaign_links l USING campaign_recipients r
			WHERE l.campaign_id = $1 AND r.campaign_id = $1 AND r.contact_id = l.contact_id AND r.state = 'pending'`, id); err != nil {
			return false, err
		}
		_, err = tx.Exec(ctx, `DELETE FROM messages WHERE id = ANY($1)`, ids)
		return true, err
	})
}

// ResumeCampaign sets a paused campaign going again from where it stopped:
// its pending recipients fan out next. One paused before it started goes
// back to scheduled.
func (s *Store) ResumeCampaign(ctx context.Context, id int64) error {
	return s.campaignTx(ctx, id, func(tx pgx.Tx) (bool, error) {
		tag, err := tx.Exec(ctx, `UPDATE campaigns SET state = CASE WHEN started_at IS NULL THEN 'scheduled' ELSE 'running' END,
			state_reason = '', updated_at = now() WHERE id = $1 AND state = 'paused'`, id)
		return err == nil && tag.RowsAffected() == 1, err
	})
}

// CancelCampaign cancels a campaign that has not finished: recipients not
// yet texted and texts not yet at the carrier are canceled.
func (s *Store) CancelCampaign(ctx context.Context, id int64) error {
	return s.campaignTx(ctx, id, func(tx pgx.Tx) (bool, error) {
		tag, err := tx.Exec(ctx, `UPDATE campaigns SET state = 'canceled', completed_at = now(), updated_at = now()
			WHERE id = $1 AND state IN ('draft', 'scheduled', 'running', 'paused')`, id)
		if err != nil || tag.RowsAffected() == 0 {
			return false, err
		}
		if _, err := tx.Exec(ctx, `UPDATE campaign_recipients SET state = 'canceled', reason = 'campaign_canceled'
			WHERE campaign_id = $1 AND state = 'pending'`, id); err != nil {
			return false, err
		}
		_, err = tx.Exec(ctx, `UPDATE messages SET status = 'canceled', status_reason = 'campaign_canceled', updated_at = now()
			WHERE origin = 'campaign' AND origin_ref = $1 AND status IN ('queued', 'held')`, strconv.FormatInt(id, 10))
		return true, err
	})
}

// campaignTx runs fn under the campaign row's lock (waiting for a fan-out
// batch to commit); fn reports whether the state allowed the change.
func (s *Store) campaignTx(ctx context.Context, id int64, fn func(pgx.Tx) (bool, error)) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var state string
		err := tx.QueryRow(ctx, `SELECT state FROM campaigns WHERE id = $1 FOR UPDATE`, id).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		okState, err := fn(tx)
		if err != nil {
			return err
		}
		if !okState {
			return ErrWrongState
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: campaign %d: %w", id, err)
	}
	return nil
}

// CompleteCampaign marks a running campaign completed once every recipient
// is final: none pending, and none of its texts still to go. It reports
// whether it did.
func (s *Store) CompleteCampaign(ctx context.Context, id int64) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE campaigns c SET state = 'completed', completed_at = now(), updated_at = now()
		WHERE c.id = $1 AND c.state = 'running'
		  AND NOT EXISTS (SELECT 1 FROM campaign_recipients r WHERE r.campaign_id = c.id AND r.state = 'pending')
		  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.origin = 'campaign' AND m.origin_ref = c.id::text
			AND m.status IN ('queued', 'held', 'sending'))`, id)
	if err != nil {
		return false, fmt.Errorf("store: complete campaign %d: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// recipientState maps a recipient and its text to the state the API
// reports: pending recipients are queued, a text's delivery status says
// the rest.
const recipientState = `CASE r.state WHEN 'pending' THEN 'queued' WHEN 'skipped' THEN 'skipped' WHEN 'canceled' THEN 'canceled' ELSE
	CASE m.status WHEN 'queued' THEN 'queued' WHEN 'sending' THEN 'queued' WHEN 'held' THEN 'held'
		WHEN 'sent' THEN 'sent' WHEN 'unknown' THEN 'sent' WHEN 'delivered' THEN 'delivered' WHEN 'read' THEN 'delivered'
		WHEN 'undelivered' THEN 'failed' WHEN 'failed' THEN 'failed' WHEN 'suppressed' THEN 'suppressed'
		WHEN 'canceled' THEN 'canceled' ELSE 'queued' END END`

// RecipientStates are the states CampaignCounts reports, in order.
var RecipientStates = []string{"queued", "sent", "delivered", "failed", "held", "suppressed", "canceled", "skipped"}

// VariantResult is one variant's figures.
type VariantResult struct {
	Variant  int
	Counts   map[string]int
	Segments int // of the texts that went (cost)
	Replied  int // recipients who wrote back within 48 h of their text
	OptedOut int // recipients who opted out within 48 h of their text
	Clicked  int // recipients who opened a tracked link
}

// CampaignResults returns the figures of each variant (index = variant).
func (s *Store) CampaignResults(ctx context.Context, id int64, variants int) ([]VariantResult, error) {
	out, err := s.CampaignCounts(ctx, id, variants)
	if err != nil {
		return nil, err
	}
	return out, s.campaignResponses(ctx, id, out)
}

// CampaignCounts is CampaignResults without the responses (replies,
// opt-outs, clicks): one scan of the recipients, for the runner's
// failure check.
func (s *Store) CampaignCounts(ctx context.Context, id int64, variants int) ([]VariantResult, error) {
	out := make([]VariantResult, max(variants, 1))
	for i := range out {
		out[i] = VariantResult{Variant: i, Counts: map[string]int{}}
		for _, st := range RecipientStates {
			out[i].Counts[st] = 0
		}
	}
	rows, err := s.Pool.Query(ctx, `SELECT r.variant, `+recipientState+`, count(*),
			coalesce(sum(m.segments) FILTER (WHERE m.status IN ('sending', 'sent', 'delivered', 'undelivered', 'failed', 'unknown', 'read')), 0)
		FROM campaign_recipients r LEFT JOIN messages m ON m.id = r.message_id
		WHERE r.campaign_id = $1 GROUP BY 1, 2`, id)
	if err != nil {
		return nil, fmt.Errorf("store: campaign %d results: %w", id, err)
	}
	var v, n, segs int
	var state string
	if _, err := pgx.ForEachRow(rows, []any{&v, &state, &n, &segs}, func() error {
		if v >= 0 && v < len(out) {
			out[v].Counts[state] += n
			out[v].Segments += segs
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: campaign %d results: %w", id, err)
	}
	return out, nil
}

func (s *Store) campaignResponses(ctx context.Context, id int64, out []VariantResult) error {
	rows, err := s.Pool.Query(ctx, `SELECT r.variant,
			count(*) FILTER (WHERE EXISTS (SELECT 1 FROM messages i WHERE i.conversation_id = m.conversation_id AND i.id > m.id
				AND i.direction = 'inbound' AND i.created_at < m.created_at + interval '48 hours')),
			count(*) FILTER (WHERE EXISTS (SELECT 1 FROM consent_events ce WHERE ce.brand_id = m.brand_id AND ce.phone = m.to_number
				AND ce.status = 'opted_out' AND ce.created_at >= m.created_at AND ce.created_at < m.created_at + interval '48 hours')),
			count(*) FILTER (WHERE EXISTS (SELECT 1 FROM campaign_links l WHERE l.campaign_id = r.campaign_id AND l.contact_id = r.contact_id AND l.clicks > 0))
		FROM campaign_recipients r JOIN messages m ON m.id = r.message_id
		WHERE r.campaign_id = $1 AND m.status IN ('sent', 'delivered', 'undelivered', 'failed', 'unknown', 'read')
		GROUP BY 1`, id)
	if err != nil {
		return fmt.Errorf("store: campaign %d results: %w", id, err)
	}
	var v, replied, opted, clicked int
	if _, err := pgx.ForEachRow(rows, []any{&v, &replied, &opted, &clicked}, func() error {
		if v >= 0 && v < len(out) {
			out[v].Replied, out[v].OptedOut, out[v].Clicked = replied, opted, clicked
		}
		return nil
	}); err != nil {
		return fmt.Errorf("store: campaign %d results: %w", id, err)
	}
	return nil
}

// CampaignRecipient is one recipient as the API lists it.
type CampaignRecipient struct {
	ContactID int64
	Phone     string
	Variant   int
	State     string
	MessageID *int64
	Reason    string
}

// CampaignRecipients lists a campaign's recipients by contact id after
// after, optionally only those in state (as CampaignResults counts them).
func (s *Store) CampaignRecipients(ctx context.Context, id int64, state string, after int64, limit int) ([]CampaignRecipient, error) {
	rows, err := s.Pool.Query(ctx, `SELECT * FROM (
			SELECT r.contact_id, r.phone, r.variant::int, `+recipientState+` AS state, r.message_id,
				CASE WHEN r.reason <> '' THEN r.reason ELSE coalesce(m.status_reason, '') END
			FROM campaign_recipients r LEFT JOIN messages m ON m.id = r.message_id
			WHERE r.campaign_id = $1 AND r.contact_id > $2 ORDER BY r.contact_id) x
		WHERE $3 = '' OR x.state = $3 LIMIT $4`, id, after, state, limit)
	if err != nil {
		return nil, fmt.Errorf("store: campaign %d recipients: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CampaignRecipient])
	if err != nil {
		return nil, fmt.Errorf("store: campaign %d recipients: %w", id, err)
	}
	return out, nil
}

// ClickLink counts a click on a tracked link and returns where it goes.
func (s *Store) ClickLink(ctx context.Context, code string) (string, error) {
	var url string
	err := s.Pool.QueryRow(ctx, `UPDATE campaign_links SET clicks = clicks + 1, first_click_at = coalesce(first_click_at, now())
		WHERE code = $1 RETURNING url`, code).Scan(&url)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("store: link: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: link: %w", err)
	}
	return url, nil
}

// AudienceEstimate is what an audience holds now.
type AudienceEstimate struct {
	Eligible int
	Excluded map[string]int // opted_out, no_marketing_consent, undeliverable, frequency_cap
}

// EligibleRecipient is one person an estimate would text.
type EligibleRecipient struct {
	Recipient
	SentLast24h int // marketing texts from the brand in the last 24 h (the cap)
}

// EstimateAudience counts an audience by what would keep each person from
// a text now, and streams the eligible ones to each (for the segment count
// and quiet hours, which need their text and zone).
func (s *Store) EstimateAudience(ctx context.Context, brandID int64, aud Audience, each func(EligibleRecipient) error) (AudienceEstimate, error) {
	est := AudienceEstimate{Excluded: map[string]int{"opted_out": 0, "no_marketing_consent": 0, "undeliverable": 0, "frequency_cap": 0}}
	sql, args, err := buildAudience(brandID, aud)
	if err != nil {
		return est, err
	}
	rows, err := s.Pool.Query(ctx, `SELECT `+exclusion+`, a.contact_id, a.phone, ct.name, coalesce(ct.loyalty_id, ''), ct.attributes, a.timezone,
			CASE WHEN `+exclusion+` = '' THEN (SELECT count(*) FROM messages r WHERE r.brand_id = $1 AND r.to_number = a.phone
				AND r.direction = 'outbound' AND r.purpose = 'marketing' AND r.sending_at > now() - interval '24 hours'
				AND r.status IN ('sending', 'sent', 'delivered', 'undelivered', 'unknown', 'read')) ELSE 0 END
		FROM (`+sql+`) a JOIN contacts ct ON ct.id = a.contact_id`, args...)
	if err != nil {
		return est, fmt.Errorf("store: estimate audience: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var why string
		var r EligibleRecipient
		var attrs []byte
		if err := rows.Scan(&why, &r.ContactID, &r.Phone, &r.Name, &r.LoyaltyID, &attrs, &r.Timezone, &r.SentLast24h); err != nil {
			return est, fmt.Errorf("store: estimate audience: %w", err)
		}
		if why != "" {
			est.Excluded[why]++
			continue
		}
		if err := json.Unmarshal(attrs, &r.Attributes); err != nil {
			return est, err
		}
		if err := each(r); err != nil {
			return est, err
		}
	}
	if err := rows.Err(); err != nil {
		return est, fmt.Errorf("store: estimate audience: %w", err)
	}
	return est, nil
}

// Segment is a saved audience.
type Segment struct {
	ID        int64
	BrandID   int64
	BrandSlug string
	Name      string
	Filter    json.RawMessage
	CreatedAt time.Time
}

// CreateSegment stores a segment.
func (s *Store) CreateSegment(ctx context.Context, g Segment) (Segment, error) {
	err := s.Pool.QueryRow(ctx, `INSERT INTO segments (brand_id, name, filter) VALUES ($1, $2, $3) RETURNING id, created_at`,
		g.BrandID, g.Name, g.Filter).Scan(&g.ID, &g.CreatedAt)
	if err != nil {
		return g, fmt.Errorf("store: create segment: %w", err)
	}
	return g, nil
}

// SegmentByID returns a segment, or ErrNotFound.
func (s *Store) SegmentByID(ctx context.Context, id int64) (Segment, error) {
	var g Segment
	err := s.Pool.QueryRow(ctx, `SELECT g.id, g.brand_id, b.slug, g.name, g.filter, g.created_at FROM segments g JOIN brands b ON b.id = g.brand_id
		WHERE g.id = $1`, id).Scan(&g.ID, &g.BrandID, &g.BrandSlug, &g.Name, &g.Filter, &g.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, fmt.Errorf("store: segment %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return g, fmt.Errorf("store: segment %d: %w", id, err)
	}
	return g, nil
}

// Segments lists segments of brandIDs (nil: all), newest first, ids below
// before (0: from the newest).
func (s *Store) Segments(ctx context.Context, brandIDs []int64, before int64, limit int) ([]Segment, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.Pool.Query(ctx, `SELECT g.id, g.brand_id, b.slug, g.name, g.filter, g.created_at FROM segments g JOIN brands b ON b.id = g.brand_id
		WHERE g.id < $1 AND ($2::bigint[] IS NULL OR g.brand_id = ANY($2)) ORDER BY g.id DESC LIMIT $3`, before, brandIDs, limit)
	if err != nil {
		return nil, fmt.Errorf("store: segments: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Segment])
	if err != nil {
		return nil, fmt.Errorf("store: segments: %w", err)
	}
	return out, nil
}

// CampaignNames returns the names of the campaigns with these ids.
func (s *Store) CampaignNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.Pool.Query(ctx, `SELECT id, name FROM campaigns WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: campaign names: %w", err)
	}
	var id int64
	var name string
	if _, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error { out[id] = name; return nil }); err != nil {
		return nil, fmt.Errorf("store: campaign names: %w", err)
	}
	return out, nil
}

// AnalyzeCampaignTables refreshes the planner's statistics of the tables a
// campaign's fan-out grows (see campaign.Runner).
func (s *Store) AnalyzeCampaignTables(ctx context.Context) error {
	if _, err := s.Pool.Exec(ctx, `ANALYZE messages, conversations, campaign_recipients`); err != nil {
		return fmt.Errorf("store: analyze campaign tables: %w", err)
	}
	return nil
}
