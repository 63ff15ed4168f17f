package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxkit/wxkit/webhook"
)

// Dedup is a webhook.DedupStore on one SQLite file, correct across any
// number of processes sharing the file and cheap when there is one.
//
// Shared mode: keys live in wxkit_dedup with a state (0 pending, 1 done),
// the reply and an expiry in Unix milliseconds. A claim is one conditional
// upsert that succeeds only when the key is absent or expired, so exactly
// one of several concurrent deliveries (in any process) owns it.
//
// Exclusive mode: while this process is the only one using the file for
// dedup (see presence.go), claims are answered from memory with no I/O (a
// webhook.MemoryDedup, bounded in keys and bytes),
// and completed keys are written to wxkit_dedup behind, within 50 ms, so
// that a restarted process (which loads the unexpired keys at its first
// claim) and any process that joins later find them. A kill -9 loses the
// keys completed in the last 50 ms: a WeChat retry of one of those would
// run its handler again.
//
// The mode is decided at the first claim and kept up to date by a
// heartbeat: when another process appears, this one writes its in-memory
// keys to the table and switches to shared mode before the newcomer
// answers its first claim; when it is alone again, it loads the table and
// switches back. Expired rows are swept every SweepEvery shared claims.
type Dedup struct {
	db     *DB
	now    func() time.Time
	claims atomic.Uint64

	startOnce sync.Once
	pres      *presence

	mu        sync.RWMutex // RLock: one operation; Lock: a mode switch
	exclusive bool         // under mu

	mem   *webhook.MemoryDedup // exclusive mode (bounded: see webhook.MemoryDedup)
	memMu sync.Mutex
	dirty map[string]dedupRow // completed in memory, not yet written; under memMu

	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
}

var _ webhook.DedupStore = (*Dedup)(nil)

// SweepEvery is how many claims pass between two deletions of expired rows.
const SweepEvery = 1024

// exclusiveBytes bounds the memory of the keys held in exclusive mode
// (keys and replies; the oldest go first): 16 MiB is about 20 000
// messages with 700-byte replies, minutes of WeChat's retry window at
// normal load. What the bound drops stays in the table (or the message
// log, see WithoutDedupWriteBehind).
const exclusiveBytes = 16 << 20

// writeBehind is how long a key completed in exclusive mode may wait before
// it is written to wxkit_dedup.
const writeBehind = 50 * time.Millisecond

// start decides the mode at the first claim: it announces this process,
// loads the table and goes exclusive when no other process is there, or
// goes shared and waits (up to 3 heartbeat intervals) until the others
// have switched to shared mode too.
func (d *Dedup) start(ctx context.Context) {
	d.startOnce.Do(func() {
		d.pres = newPresence(d.db, d.onTick)
		d.kick = make(chan struct{}, 1)
		d.stop = make(chan struct{})
		d.done = make(chan struct{})
		others, err := d.pres.register(ctx, false)
		switch {
		case err != nil:
			// Presence is unavailable (read-only file, busy): stay shared,
			// which is correct whoever else is there.
		case len(others) == 0:
			if err := d.load(ctx); err == nil {
				d.exclusive = true
			}
		default:
			d.pres.register(ctx, true)
			d.awaitShared(ctx)
		}
		go d.pres.run(func() bool { d.mu.RLock(); defer d.mu.RUnlock(); return !d.exclusive })
		go d.flusher()
	})
}

// awaitShared waits until every other live process reports shared mode.
func (d *Dedup) awaitShared(ctx context.Context) {
	deadline := time.Now().Add(3 * d.pres.interval)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		others, err := d.pres.others(ctx)
		if err != nil {
			return
		}
		all := true
		for _, o := range others {
			all = all && o.shared
		}
		if all {
			return
		}
		time.Sleep(d.pres.interval / 8)
	}
}

// onTick follows the heartbeat: exclusive while alone, shared otherwise.
func (d *Dedup) onTick(others []peer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d.mu.Lock()
	switched := false
	switch {
	case d.exclusive && len(others) > 0:
		if err := d.spill(ctx); err == nil {
			d.exclusive, switched = false, true
			d.memMu.Lock()
			d.mem, d.dirty = nil, nil
			d.memMu.Unlock()
		}
	case !d.exclusive && len(others) == 0:
		if err := d.load(ctx); err == nil {
			d.exclusive = true
		}
	}
	d.mu.Unlock()
	if switched {
		d.pres.register(ctx, true) // the newcomer waits for this
	}
}

// load reads the unexpired keys of the table into memory.
func (d *Dedup) load(ctx context.Context) error {
	now := d.now()
	rows, err := d.db.QueryContext(ctx, `SELECT key, done, reply, expires_at FROM wxkit_dedup WHERE expires_at > ? ORDER BY expires_at`, now.UnixMilli())
	if err != nil {
		return err
	}
	defer rows.Close()
	mem := &webhook.MemoryDedup{Now: d.now, MaxBytes: exclusiveBytes}
	for rows.Next() {
		var key string
		var done int
		var reply []byte
		var exp int64
		if err := rows.Scan(&key, &done, &reply, &exp); err != nil {
			return err
		}
		ttl := time.UnixMilli(exp).Sub(now)
		mem.Claim(ctx, key, ttl)
		if done == 1 {
			mem.Complete(ctx, key, reply, ttl)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	d.memMu.Lock()
	d.mem, d.dirty = mem, make(map[string]dedupRow)
	d.memMu.Unlock()
	return nil
}

// spill writes every key held in memory (completed and pending) to the
// table, before the switch to shared mode.
func (d *Dedup) spill(ctx context.Context) error {
	var batch []dedupRow
	d.mem.Range(func(key string, done bool, reply []byte, expires time.Time) bool {
		batch = append(batch, dedupRow{key, done, reply, expires})
		return true
	})
	return d.writeRows(ctx, batch)
}

// dedupRow is a key to write.
type dedupRow struct {
	key     string
	done    bool
	reply   []byte
	expires time.Time
}

// writeRows upserts rows in one transaction, in multi-row statements of
// up to writeChunk rows: a done row replaces what the table has, a pending
// one only fills an absent or expired key.
func (d *Dedup) writeRows(ctx context.Context, rows []dedupRow) error {
	if len(rows) == 0 {
		return nil
	}
	var done, pending []dedupRow
	for _, r := range rows {
		if r.done {
			done = append(done, r)
		} else {
			pending = append(pending, r)
		}
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := d.now().UnixMilli()
	for len(done) > 0 {
		n := min(len(done), writeChunk)
		args := make([]any, 0, 3*n)
		for _, r := range done[:n] {
			args = append(args, r.key, nonNil(r.reply), r.expires.UnixMilli())
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO wxkit_dedup (key, reply, expires_at, done) VALUES `+
			strings.Repeat("(?, ?, ?, 1), ", n-1)+`(?, ?, ?, 1)
			 ON CONFLICT (key) DO UPDATE SET done = 1, reply = excluded.reply, expires_at = excluded.expires_at`, args...); err != nil {
			return err
		}
		done = done[n:]
	}
	for _, r := range pending {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO wxkit_dedup (key, done, reply, expires_at) VALUES (?, 0, NULL, ?)
			 ON CONFLICT (key) DO UPDATE SET done = 0, reply = NULL, expires_at = excluded.expires_at
			 WHERE wxkit_dedup.expires_at <= ?`,
			r.key, r.expires.UnixMilli(), now); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// writeChunk is the most rows one statement of writeRows holds (3
// parameters each, well below SQLite's limit).
const writeChunk = 256

// flusher writes the keys completed in exclusive mode behind, and drops
// expired keys from memory.
func (d *Dedup) flusher() {
	defer close(d.done)
	t := time.NewTicker(writeBehind)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			d.flush()
			return
		case <-t.C:
		case <-d.kick:
		}
		d.flush()
	}
}

// flush writes the dirty keys.
func (d *Dedup) flush() {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if !d.exclusive {
		return
	}
	d.memMu.Lock()
	if len(d.dirty) == 0 {
		d.memMu.Unlock()
		return
	}
	batch := make([]dedupRow, 0, len(d.dirty))
	for _, r := range d.dirty {
		batch = append(batch, r)
	}
	clear(d.dirty)
	d.memMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.writeRows(ctx, batch); err != nil {
		// Keep them for the next flush, unless newer ones replaced them.
		d.memMu.Lock()
		for _, r := range batch {
			if _, ok := d.dirty[r.key]; !ok && d.dirty != nil {
				d.dirty[r.key] = r
			}
		}
		d.memMu.Unlock()
	}
}

// close stops the heartbeat and the flusher (writing what is dirty).
func (d *Dedup) close() {
	d.closed.Do(func() {
		if d.pres == nil {
			return
		}
		d.pres.close()
		close(d.stop)
		<-d.done
	})
}

// Exclusive reports whether this process holds its claims in memory (it
// is the only one using the file for dedup).
func (d *Dedup) Exclusive() bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.exclusive
}

// Claim implements webhook.DedupStore.
func (d *Dedup) Claim(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	if err := ctx.Err(); err != nil {
		return webhook.Claim{}, fmt.Errorf("sqlite: dedup: %w", err)
	}
	d.start(ctx)
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.exclusive {
		return d.mem.Claim(ctx, key, ttl)
	}
	return d.sqlClaim(ctx, key, ttl)
}

func (d *Dedup) sqlClaim(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
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
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: dedup: %w", err)
	}
	d.start(ctx)
	d.mu.RLock()
	defer d.mu.RUnlock()
	if reply == nil {
		reply = []byte{}
	}
	if d.exclusive {
		if err := d.mem.Complete(ctx, key, reply, ttl); err != nil {
			return err
		}
		if d.db.noWriteBehind {
			return nil
		}
		d.memMu.Lock()
		d.dirty[key] = dedupRow{key, true, append([]byte(nil), reply...), d.now().Add(ttl)}
		n := len(d.dirty)
		d.memMu.Unlock()
		if n >= 256 {
			select {
			case d.kick <- struct{}{}:
			default:
			}
		}
		return nil
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
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: dedup: %w", err)
	}
	d.start(ctx)
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.exclusive {
		return d.mem.Release(ctx, key)
	}
	if _, err := d.db.ExecContext(ctx, `DELETE FROM wxkit_dedup WHERE key = ? AND done = 0`, key); err != nil {
		return fmt.Errorf("sqlite: dedup release %q: %w", key, err)
	}
	return nil
}

// Sweep deletes expired keys and returns how many it deleted. Claim calls
// it every SweepEvery shared claims; call it yourself to sweep on a
// schedule.
func (d *Dedup) Sweep(ctx context.Context) (int64, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM wxkit_dedup WHERE expires_at <= ?`, d.now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: dedup sweep: %w", err)
	}
	return res.RowsAffected()
}
