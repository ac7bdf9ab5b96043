package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// SpooledOptOuts is the set of phones whose opt-out a web process answered
// 200 and holds in its spool while Postgres is away. Until the spool
// replays it, Postgres still says those phones may be texted; senders read
// this set before each claim and leave their texts alone meanwhile.
//
// The set is kept an hour after its last mark: a web process lost with its
// spool never unmarks its phones, and their texts wait that long.
type SpooledOptOuts struct {
	rdb redis.UniversalClient
	key string
}

// spooledOptOutsTTL is how long the set outlives its last mark.
const spooledOptOutsTTL = time.Hour

// NewSpooledOptOuts keeps the set under prefix in rdb.
func NewSpooledOptOuts(rdb redis.UniversalClient, prefix string) *SpooledOptOuts {
	return &SpooledOptOuts{rdb: rdb, key: prefix + "spooled-optouts"}
}

// Mark adds phone to the set.
func (o *SpooledOptOuts) Mark(ctx context.Context, phone string) error {
	_, err := o.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, o.key, phone)
		p.Expire(ctx, o.key, spooledOptOutsTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue: mark spooled opt-out of %s: %w", phone, err)
	}
	return nil
}

// Unmark removes phones, their opt-outs stored.
func (o *SpooledOptOuts) Unmark(ctx context.Context, phones ...string) error {
	if len(phones) == 0 {
		return nil
	}
	members := make([]any, len(phones))
	for i, p := range phones {
		members[i] = p
	}
	if err := o.rdb.SRem(ctx, o.key, members...).Err(); err != nil {
		return fmt.Errorf("queue: unmark %d spooled opt-outs: %w", len(phones), err)
	}
	return nil
}

// Phones returns the marked phones (none, nearly always), in one round trip.
func (o *SpooledOptOuts) Phones(ctx context.Context) ([]string, error) {
	phones, err := o.rdb.SMembers(ctx, o.key).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: spooled opt-outs: %w", err)
	}
	return phones, nil
}
