package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/wxkit/wxkit/webhook"
)

// Dedup is a webhook.DedupStore in SQLite, safe across processes sharing
// the file. Keys live in wxkit_dedup with a state (0 pending, 1 done), the
// reply and an expiry in Unix milliseconds. A claim is one conditional
// upsert that succeeds only when the key is absent or expired, so exactly
// one of several concurrent deliveries (in any process) owns it. Expired
// rows are swept every SweepEvery claims.
type Dedup struct {
	db     *DB
	now    func() time.Time
	claims atomic.Uint64
}

var _ webhook.DedupStore = (*Dedup)(nil)

// SweepEvery is how many claims pass between two deletions of expired rows.
const SweepEvery = 1024

// NewDedup applies the missing migrations (see DB.Migrate) and returns the
// store.
func NewDedup(db *DB) (*Dedup, error) {
	if db == nil {
		return nil, errors.New("sqlite: NewDedup: nil DB")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.migrateNow(ctx); err != nil {
		return nil, err
	}
	return db.Dedup().(*Dedup), nil
}

// Claim implements webhook.DedupStore.
func (d *Dedup) Claim(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	if d.claims.Add(1)%SweepEvery == 0 {
		d.Sweep(ctx)
	}
	for range 3 {
		now := d.now()
		res, err := d.db.ExecContext(ctx,
			`INSERT INTO wxkit_dedup (key, done, reply, expires_at) VALUES (?, 0, NULL, ?)
			 ON CONFLICT (key) DO UPDATE SET done = 0, reply = NULL, expires_at = excluded.expires_at
			 WHERE wxkit_dedup.expires_at <= ?`,
			key, now.Add(ttl).UnixMilli(), now.UnixMilli())
		if err != nil {
			return webhook.Claim{}, fmt.Errorf("sqlite: dedup claim %q: %w", key, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return webhook.Claim{}, fmt.Errorf("sqlite: dedup claim %q: %w", key, err)
		} else if n > 0 {
			return webhook.Claim{State: webhook.ClaimOwned}, nil
		}
		var done int
		var reply []byte
		err = d.db.QueryRowContext(ctx,
			`SELECT done, reply FROM wxkit_dedup WHERE key = ? AND expires_at > ?`,
			key, d.now().UnixMilli()).Scan(&done, &reply)
		if errors.Is(err, sql.ErrNoRows) {
			continue // expired between the two statements: claim again
		}
		if err != nil {
			return webhook.Claim{}, fmt.Errorf("sqlite: dedup claim %q: %w", key, err)
		}
		if done == 1 {
			return webhook.Claim{State: webhook.ClaimDone, Reply: reply}, nil
		}
		return webhook.Claim{State: webhook.ClaimPending}, nil
	}
	return webhook.Claim{}, fmt.Errorf("sqlite: dedup claim %q: key keeps expiring under contention", key)
}

// Complete implements webhook.DedupStore.
func (d *Dedup) Complete(ctx context.Context, key string, reply []byte, ttl time.Duration) error {
	if reply == nil {
		reply = []byte{}
	}
	_, err := d.db.ExecContext(ctx,
		`INSERT INTO wxkit_dedup (key, done, reply, expires_at) VALUES (?, 1, ?, ?)
		 ON CONFLICT (key) DO UPDATE SET done = 1, reply = excluded.reply, expires_at = excluded.expires_at`,
		key, reply, d.now().Add(ttl).UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlite: dedup complete %q: %w", key, err)
	}
	return nil
}

// Release implements webhook.DedupStore: it deletes key only while pending.
func (d *Dedup) Release(ctx context.Context, key string) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM wxkit_dedup WHERE key = ? AND done = 0`, key); err != nil {
		return fmt.Errorf("sqlite: dedup release %q: %w", key, err)
	}
	return nil
}

// Sweep deletes expired keys and returns how many it deleted. Claim calls
// it every SweepEvery claims; call it yourself to sweep on a schedule.
func (d *Dedup) Sweep(ctx context.Context) (int64, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM wxkit_dedup WHERE expires_at <= ?`, d.now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: dedup sweep: %w", err)
	}
	return res.RowsAffected()
}
