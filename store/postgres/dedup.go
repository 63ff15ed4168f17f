package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wxkit/wxkit/webhook"
)

// Dedup is the webhook.DedupStore view of a DB, returned by DB.Dedup. Keys
// are rows of wxkit_dedup: pending (done false) with a lease until
// expires_at, or done with the reply kept until expires_at. Claim is an
// INSERT … ON CONFLICT DO UPDATE … WHERE the row has expired … RETURNING,
// so of concurrent Claims of a key on any number of instances exactly one
// owns it; the others read the row in the same statement. The Claims (and
// the Completes) made on a DB while its previous such statement runs are
// sent together as one statement, rows in key order (see group). Expiry
// is judged on the DB's clock (WithClock). Every SweepEvery claims on a
// DB, expired keys are deleted (see Sweep). Safe for concurrent use.
type Dedup struct {
	db *DB
}

var _ webhook.DedupStore = (*Dedup)(nil)

// Dedup returns the dedup store of db.
func (db *DB) Dedup() *Dedup { return &Dedup{db: db} }

// quote formats a key for an error message.
func quote(key string) string { return strconv.Quote(key) }

// dedupReq is one Claim or Complete of a statement group.
type dedupReq struct {
	key   string
	ttl   time.Duration
	reply []byte // Complete only; never nil
}

func dedupKey(r dedupReq) string { return r.key }

// claimResult is what a grouped claim found; gone means the key expired,
// or was released, between the upsert that found it live and the read of
// its state.
type claimResult struct {
	claim webhook.Claim
	gone  bool
}

// Claim implements webhook.DedupStore.
func (d *Dedup) Claim(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	if d.db.claims.Add(1)%SweepEvery == 0 {
		d.db.sweepSome(ctx, "wxkit_dedup", d.db.now())
	}
	for range 3 {
		r, err := d.db.claimGroup.do(ctx, dedupReq{key: key, ttl: ttl})
		if err != nil {
			return webhook.Claim{}, wrap("dedup claim "+quote(key), err)
		}
		if !r.gone {
			return r.claim, nil
		}
	}
	return webhook.Claim{}, fmt.Errorf("postgres: dedup claim %q: key keeps expiring under contention", key)
}

// claimSQL claims the keys $1 (sorted, distinct) with the leases $2 at
// time $3, and returns for each key whether it is now owned and, if not,
// the live row that holds it (read from the statement's snapshot: a row
// committed since by another instance reads as absent, and its key is
// claimed again). The LIMIT keeps the read a lookup of the primary key
// per key: joined plainly, a generic plan may scan the table.
const claimSQL = `WITH req AS (
	SELECT * FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS r(key, expires_at, n)
), ins AS (
	INSERT INTO wxkit_dedup AS d (key, done, reply, expires_at)
	SELECT key, false, NULL, expires_at FROM req ORDER BY n
	ON CONFLICT (key) DO UPDATE SET done = false, reply = NULL, expires_at = excluded.expires_at
	WHERE d.expires_at <= $3
	RETURNING d.key
)
SELECT ins.key IS NOT NULL, cur.done, cur.reply
FROM req LEFT JOIN ins ON ins.key = req.key
LEFT JOIN LATERAL (
	SELECT done, reply FROM wxkit_dedup c WHERE ins.key IS NULL AND c.key = req.key AND c.expires_at > $3 LIMIT 1
) cur ON true
ORDER BY req.n`

// runClaims claims the keys of calls: one key with an upsert and, when
// the key is taken, a read; several keys in one statement (claimSQL).
func (db *DB) runClaims(ctx context.Context, calls []*groupCall[dedupReq, claimResult]) {
	if len(calls) == 1 {
		c := calls[0]
		c.res, c.err = db.claimOne(ctx, c.req.key, c.req.ttl)
		return
	}
	slices.SortFunc(calls, func(a, b *groupCall[dedupReq, claimResult]) int { return strings.Compare(a.req.key, b.req.key) })
	now := db.now()
	keys, expires := make([]string, len(calls)), make([]time.Time, len(calls))
	for i, c := range calls {
		keys[i], expires[i] = c.req.key, now.Add(c.req.ttl)
	}
	rows, err := db.pool.Query(ctx, claimSQL, keys, expires, now)
	if err == nil {
		i := 0
		for rows.Next() && i < len(calls) {
			var owned bool
			var done *bool
			var reply []byte
			if err = rows.Scan(&owned, &done, &reply); err != nil {
				break
			}
			c := calls[i]
			switch {
			case owned:
				c.res.claim.State = webhook.ClaimOwned
			case done == nil:
				c.res.gone = true
			case *done:
				c.res.claim = webhook.Claim{State: webhook.ClaimDone, Reply: reply}
			default:
				c.res.claim.State = webhook.ClaimPending
			}
			i++
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err == nil && i != len(calls) {
			err = fmt.Errorf("%d rows for %d keys", i, len(calls))
		}
	}
	if err != nil {
		for _, c := range calls {
			c.res, c.err = claimResult{}, err
		}
	}
}

// claimOne claims key alone: the cheaper statements, and the same round
// trip when the key is free.
func (db *DB) claimOne(ctx context.Context, key string, ttl time.Duration) (claimResult, error) {
	now := db.now()
	tag, err := db.pool.Exec(ctx,
		`INSERT INTO wxkit_dedup (key, done, reply, expires_at) VALUES ($1, false, NULL, $2)
		 ON CONFLICT (key) DO UPDATE SET done = false, reply = NULL, expires_at = excluded.expires_at
		 WHERE wxkit_dedup.expires_at <= $3`,
		key, now.Add(ttl), now)
	if err != nil {
		return claimResult{}, err
	}
	if tag.RowsAffected() > 0 {
		return claimResult{claim: webhook.Claim{State: webhook.ClaimOwned}}, nil
	}
	var done bool
	var reply []byte
	err = db.pool.QueryRow(ctx, `SELECT done, reply FROM wxkit_dedup WHERE key = $1 AND expires_at > $2`,
		key, db.now()).Scan(&done, &reply)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return claimResult{gone: true}, nil
	case err != nil:
		return claimResult{}, err
	case done:
		return claimResult{claim: webhook.Claim{State: webhook.ClaimDone, Reply: reply}}, nil
	}
	return claimResult{claim: webhook.Claim{State: webhook.ClaimPending}}, nil
}

// Complete implements webhook.DedupStore: the key becomes done with reply
// until ttl from now, whether or not it was claimed.
func (d *Dedup) Complete(ctx context.Context, key string, reply []byte, ttl time.Duration) error {
	// The statement may outlive the call (ctx ends first): keep a copy.
	reply = append([]byte{}, reply...)
	if _, err := d.db.completeGroup.do(ctx, dedupReq{key: key, ttl: ttl, reply: reply}); err != nil {
		return wrap("dedup complete "+quote(key), err)
	}
	return nil
}

// runCompletes completes the keys of calls in one statement.
func (db *DB) runCompletes(ctx context.Context, calls []*groupCall[dedupReq, struct{}]) {
	slices.SortFunc(calls, func(a, b *groupCall[dedupReq, struct{}]) int { return strings.Compare(a.req.key, b.req.key) })
	now := db.now()
	keys, replies, expires := make([]string, len(calls)), make([][]byte, len(calls)), make([]time.Time, len(calls))
	for i, c := range calls {
		keys[i], replies[i], expires[i] = c.req.key, c.req.reply, now.Add(c.req.ttl)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO wxkit_dedup (key, done, reply, expires_at)
		SELECT key, true, reply, expires_at FROM unnest($1::text[], $2::bytea[], $3::timestamptz[]) AS r(key, reply, expires_at)
		ON CONFLICT (key) DO UPDATE SET done = true, reply = excluded.reply, expires_at = excluded.expires_at`,
		keys, replies, expires)
	for _, c := range calls {
		c.err = err
	}
}

// Release implements webhook.DedupStore: it deletes key only while
// pending.
func (d *Dedup) Release(ctx context.Context, key string) error {
	if _, err := d.db.pool.Exec(ctx, `DELETE FROM wxkit_dedup WHERE key = $1 AND NOT done`, key); err != nil {
		return wrap("dedup release "+quote(key), err)
	}
	return nil
}
