package postgres

import (
	"context"
	"time"
)

// SweepEvery is how many operations of one kind a DB runs between two
// opportunistic sweeps of expired rows: every SweepEvery Dedup claims (of
// wxkit_dedup, on the DB's clock), Session reads (of wxkit_sessions, at the
// caller's now) and TakeState calls (of wxkit_oauth_states, at the
// caller's now), one statement deletes at most SweepBatch expired rows of
// that table. Tokens and token leases, one row per token key, are swept by
// Sweep only.
const SweepEvery = 1024

// SweepBatch is the most rows one sweep statement deletes, so that no
// sweep holds locks for long.
const SweepBatch = 1000

// sweepKeys names the expiring tables and their primary keys.
var sweepKeys = map[string]string{
	"wxkit_tokens":       "key",
	"wxkit_token_locks":  "key",
	"wxkit_dedup":        "key",
	"wxkit_sessions":     "id_hash",
	"wxkit_oauth_states": "nonce",
}

// sweepOrder is the order in which Sweep visits the tables.
var sweepOrder = []string{"wxkit_tokens", "wxkit_token_locks", "wxkit_dedup", "wxkit_sessions", "wxkit_oauth_states"}

// Sweep deletes every row expired at now from the tables of tokens, token
// leases, dedup keys, sessions and OAuth states, in statements of at most
// SweepBatch rows that skip rows locked by other transactions, and returns
// how many it deleted. Call it on a schedule (any instance; several at once
// do not conflict) when the opportunistic sweeps (SweepEvery) are not
// enough, e.g. after a burst of sessions that are never read again.
func (db *DB) Sweep(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, table := range sweepOrder {
		for {
			n, err := db.sweepBatch(ctx, table, now)
			total += n
			if err != nil {
				return total, wrap("sweep "+table, err)
			}
			if n < SweepBatch {
				break
			}
		}
	}
	return total, nil
}

// sweepBatch deletes at most SweepBatch rows of table expired at now.
func (db *DB) sweepBatch(ctx context.Context, table string, now time.Time) (int64, error) {
	pk := sweepKeys[table]
	tag, err := db.pool.Exec(ctx, `DELETE FROM `+table+` WHERE `+pk+` IN (
		SELECT `+pk+` FROM `+table+` WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
		AND expires_at <= $1`, now, SweepBatch)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// sweepSome runs one opportunistic sweep batch of table; a failure is
// logged and otherwise ignored (the operation that triggered it goes on).
func (db *DB) sweepSome(ctx context.Context, table string, now time.Time) {
	n, err := db.sweepBatch(ctx, table, now)
	if err != nil {
		if ctx.Err() == nil {
			db.logger.Warn("postgres: sweep failed", "table", table, "err", err)
		}
		return
	}
	if n > 0 {
		db.logger.Debug("postgres: swept expired rows", "table", table, "rows", n)
	}
}
