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

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is a SQLite database opened by Open. It embeds *sql.DB: stores in this
// package run their SQL through it. Path is the file it was opened on
// (":memory:" for an in-memory database).
//
// A DB is store.Users, store.Sessions, store.OAuthStates,
// store.MessageLog, store.Outbox, store.Orders, store.Authorizers,
// store.Migrator and store.Pinger, on the
// tables of its migrations (call Migrate before using it). It is safe for
// concurrent use, and processes that open one file share its data.
type DB struct {
	*sql.DB
	Path string

	clock func() time.Time // nil: time.Now

	// Counters that trigger a sweep of expired rows every SweepEvery writes.
	sessionsCreated, statesPut atomic.Uint64

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // see prepared

	presenceInterval time.Duration // WithPresenceInterval
	noWriteBehind    bool          // WithoutDedupWriteBehind
	dedupOnce        sync.Once
	dedup            *Dedup // DB.Dedup
	writerOnce       sync.Once
	writer           *logWriter // AppendMessages
}

// Close stops the dedup store's heartbeat (removing this process from the
// file's presence table and writing its pending keys) and closes the
// database.
func (db *DB) Close() error {
	if db.dedup != nil {
		db.dedup.close()
	}
	db.closeWriter()
	return db.DB.Close()
}

// An Option configures Open.
type Option func(*DB)

// WithClock replaces time.Now as the DB's clock, used where a method takes
// no caller's clock: the expiry of tokens, locks and dedup claims
// (DB.TokenStore, DB.Dedup), the sweep of expired OAuth states (PutState)
// and the time recorded for applied migrations. Interface methods that take
// now use the caller's.
func WithClock(now func() time.Time) Option {
	return func(db *DB) {
		if now != nil {
			db.clock = now
		}
	}
}

// BusyTimeout is how long a statement waits for another connection or
// process holding the write lock before failing with SQLITE_BUSY.
const BusyTimeout = 5 * time.Second

// Open opens (creating if needed) the SQLite database named by dsn, which is
// "sqlite://path", "sqlite:path", a plain path, or ":memory:" (also
// "sqlite://:memory:") for a private in-memory database. A query string in
// dsn is passed to the driver. Every connection gets journal_mode=WAL (on
// files), busy_timeout=5000, foreign_keys=ON and synchronous=NORMAL, and
// transactions begin IMMEDIATE, so that two processes writing the same file
// wait for each other instead of failing.
//
// An in-memory database is private to its DB, which then uses a single
// connection. Open does not migrate (see DB.Migrate).
func Open(dsn string, opts ...Option) (*DB, error) {
	path := dsn
	for _, p := range []string{"sqlite://", "sqlite:"} {
		if strings.HasPrefix(path, p) {
			path = strings.TrimPrefix(path, p)
			break
		}
	}
	query := ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	if path == "" {
		return nil, errors.New("sqlite: Open: empty path")
	}
	memory := path == ":memory:" || strings.Contains(query, "mode=memory")
	// busy_timeout comes first, so that the pragmas after it (WAL mode on
	// a file that another process is creating) wait instead of failing.
	params := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()),
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)",
		"_txlock=immediate",
	}
	if !memory {
		params = append(params, "_pragma=journal_mode(WAL)")
	}
	if query != "" {
		params = append(params, query)
	}
	full := path + "?" + strings.Join(params, "&")
	if memory && !strings.HasPrefix(path, "file:") {
		full = "file:" + full
	}
	db, err := sql.Open("sqlite", full)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if memory {
		db.SetMaxOpenConns(1)
		db.SetConnMaxIdleTime(0)
		db.SetConnMaxLifetime(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), BusyTimeout+5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	out := &DB{DB: db, Path: path}
	for _, o := range opts {
		o(out)
	}
	return out, nil
}

// now is the time by the DB's clock (time.Now unless a test set another),
// used where an interface method takes no caller's clock: the time a
// migration is recorded as applied, and the sweeps of expired OAuth states.
func (db *DB) now() time.Time {
	if db.clock != nil {
		return db.clock()
	}
	return time.Now()
}

// nonNil returns b, or an empty slice for nil, for BLOB columns that hold
// an empty value rather than NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
