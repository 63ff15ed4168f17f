package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wxkit/wxkit/webhook"
)

// Dedup is the webhook.DedupStore view of a DB, returned by DB.Dedup. Keys
// are rows of wxkit_dedup: pending (done false) with a lease until
// expires_at, or done with the reply kept until expires_at. Claim is one
// INSERT … ON CONFLICT DO UPDATE … WHERE the row has expired … RETURNING,
// so of concurrent Claims of a key on any number of instances exactly one
// owns it; the others then read the row (a second statement). Expiry is
// judged on the DB's clock (WithClock). Every SweepEvery claims on a DB,
// expired keys are deleted (see Sweep). Safe for concurrent use.
type Dedup struct {
	db *DB
}

var _ webhook.DedupStore = (*Dedup)(nil)

// Dedup returns the dedup store of db.
func (db *DB) Dedup() *Dedup { return &Dedup{db: db} }

// quote formats a key for an error message.
func quote(key string) string { return strconv.Quote(key) }

// Claim implements webhook.DedupStore.
func (d *Dedup) Claim(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	if d.db.claims.Add(1)%SweepEvery == 0 {
		d.db.sweepSome(ctx, "wxkit_dedup", d.db.now())
	}
	// The key may expire, or be released, between the upsert that finds it
	// live and the read of its state: then claim again.
	for range 3 {
		now := d.db.now()
		tag, err := d.db.pool.Exec(ctx,
			`INSERT INTO wxkit_dedup (key, done, reply, expires_at) VALUES ($1, false, NULL, $2)
			 ON CONFLICT (key) DO UPDATE SET done = false, reply = NULL, expires_at = excluded.expires_at
			 WHERE wxkit_dedup.expires_at <= $3`,
			key, now.Add(ttl), now)
		if err != nil {
			return webhook.Claim{}, wrap("dedup claim "+quote(key), err)
		}
		if tag.RowsAffected() > 0 {
			return webhook.Claim{State: webhook.ClaimOwned}, nil
		}
		var done bool
		var reply []byte
		err = d.db.pool.QueryRow(ctx, `SELECT done, reply FROM wxkit_dedup WHERE key = $1 AND expires_at > $2`,
			key, d.db.now()).Scan(&done, &reply)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return webhook.Claim{}, wrap("dedup claim "+quote(key), err)
		}
		if done {
			return webhook.Claim{State: webhook.ClaimDone, Reply: reply}, nil
		}
		return webhook.Claim{State: webhook.ClaimPending}, nil
	}
	return webhook.Claim{}, fmt.Errorf("postgres: dedup claim %q: key keeps expiring under contention", key)
}

// Complete implements webhook.DedupStore: the key becomes done with reply
// until ttl from now, whether or not it was claimed.
func (d *Dedup) Complete(ctx context.Context, key string, reply []byte, ttl time.Duration) error {
	if reply == nil {
		reply = []byte{}
	}
	_, err := d.db.pool.Exec(ctx,
		`INSERT INTO wxkit_dedup (key, done, reply, expires_at) VALUES ($1, true, $2, $3)
		 ON CONFLICT (key) DO UPDATE SET done = true, reply = excluded.reply, expires_at = excluded.expires_at`,
		key, reply, d.db.now().Add(ttl))
	if err != nil {
		return wrap("dedup complete "+quote(key), err)
	}
	return nil
}

// Release implements webhook.DedupStore: it deletes key only while
// pending.
func (d *Dedup) Release(ctx context.Context, key string) error {
	if _, err := d.db.pool.Exec(ctx, `DELETE FROM wxkit_dedup WHERE key = $1 AND NOT done`, key); err != nil {
		return wrap("dedup release "+quote(key), err)
	}
	return nil
}
