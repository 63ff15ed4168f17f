package sqlite

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"time"
)

// Presence: which processes are using this database file for webhook
// dedup right now.
//
// Each process whose Dedup has served a claim keeps a row in
// wxkit_instances (a random id, a heartbeat every PresenceInterval, and
// whether it has switched to shared mode). A row whose heartbeat is older
// than 3 intervals belongs to a process that is gone. A process that finds
// itself alone keeps its dedup claims in memory (exclusive mode: no write
// on the request path, finished claims written behind); as soon as another
// live process appears it switches to shared mode (claims in the table)
// and says so in its row, and a newcomer waits for that before it answers
// its first claim. See Dedup.

// DefaultPresenceInterval is the heartbeat interval of WithPresenceInterval.
const DefaultPresenceInterval = time.Second

// WithPresenceInterval sets how often a process using the dedup store
// announces itself and looks for others (DefaultPresenceInterval); a
// process is taken as gone after 3 intervals without a heartbeat, and a
// newcomer waits at most that long for the others to switch to shared
// mode.
func WithPresenceInterval(d time.Duration) Option {
	return func(db *DB) {
		if d > 0 {
			db.presenceInterval = d
		}
	}
}

// WithoutDedupWriteBehind stops the dedup store from writing the keys it
// completes in exclusive mode (see Dedup): for a caller that keeps them
// durably elsewhere — the gateway's message log holds every answered
// message with its reply, and reloads the recent ones at start. Keys are
// still written out when another process joins.
func WithoutDedupWriteBehind() Option {
	return func(db *DB) { db.noWriteBehind = true }
}

// presence runs the heartbeat of one Dedup.
type presence struct {
	db       *DB
	id       string
	interval time.Duration
	onTick   func(others []peer) // called after each heartbeat with the live others

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// peer is another live process.
type peer struct {
	id     string
	shared bool
}

func newPresence(db *DB, onTick func([]peer)) *presence {
	var b [8]byte
	rand.Read(b[:])
	iv := db.presenceInterval
	if iv <= 0 {
		iv = DefaultPresenceInterval
	}
	return &presence{db: db, id: hex.EncodeToString(b[:]), interval: iv, onTick: onTick,
		stop: make(chan struct{}), done: make(chan struct{})}
}

// register writes this process's row and returns the live others.
func (p *presence) register(ctx context.Context, shared bool) ([]peer, error) {
	host, _ := os.Hostname()
	now := time.Now().UnixMilli()
	if _, err := p.db.ExecContext(ctx,
		`INSERT INTO wxkit_instances (id, host, pid, started_at, heartbeat_at, shared) VALUES (?, ?, ?, ?, ?, ?)
		 ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, shared = excluded.shared`,
		p.id, host, os.Getpid(), now, now, boolInt(shared)); err != nil {
		return nil, err
	}
	return p.others(ctx)
}

// others returns the live processes other than this one.
func (p *presence) others(ctx context.Context) ([]peer, error) {
	rows, err := p.db.QueryContext(ctx,
		`SELECT id, shared FROM wxkit_instances WHERE id <> ? AND heartbeat_at > ?`,
		p.id, time.Now().Add(-3*p.interval).UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []peer
	for rows.Next() {
		var pr peer
		var shared int
		if err := rows.Scan(&pr.id, &shared); err != nil {
			return nil, err
		}
		pr.shared = shared == 1
		out = append(out, pr)
	}
	return out, rows.Err()
}

// run heartbeats until close. shared reports the mode to announce.
func (p *presence) run(shared func() bool) {
	defer close(p.done)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.interval*3)
		others, err := p.register(ctx, shared())
		if err == nil {
			// Forget processes gone for long (a crash leaves its row).
			p.db.ExecContext(ctx, `DELETE FROM wxkit_instances WHERE heartbeat_at < ?`,
				time.Now().Add(-30*p.interval).UnixMilli())
		}
		cancel()
		if err != nil {
			continue // the database is busy or gone: keep the mode
		}
		p.onTick(others)
	}
}

// close stops the heartbeat and removes this process's row.
func (p *presence) close() {
	p.once.Do(func() {
		close(p.stop)
		<-p.done
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		p.db.ExecContext(ctx, `DELETE FROM wxkit_instances WHERE id = ?`, p.id)
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
