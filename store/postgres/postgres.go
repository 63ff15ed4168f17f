package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wxkit/wxkit/store"
)

// DB is a PostgreSQL database opened by Open: a connection pool on which
// every store of this package runs. It implements store.Users,
// store.Sessions, store.OAuthStates, store.MessageLog, store.Outbox,
// store.Orders, store.Authorizers,
// store.Migrator and store.Pinger itself; TokenStore and Dedup return the
// token.Store and webhook.DedupStore views of it. A DB is safe for
// concurrent use, and any number of DBs (in any number of processes) may
// share one database. Expired rows are deleted opportunistically and by
// Sweep (see SweepEvery).
type DB struct {
	pool   *pgxpool.Pool
	now    func() time.Time
	logger *slog.Logger

	// Operation counters for the opportunistic sweeps (see SweepEvery).
	claims, sessionReads, stateTakes atomic.Uint64

	// Statement groups of Dedup (group.go, dedup.go).
	claimGroup    *group[dedupReq, claimResult]
	completeGroup *group[dedupReq, struct{}]
}

var (
	_ store.Users       = (*DB)(nil)
	_ store.Sessions    = (*DB)(nil)
	_ store.OAuthStates = (*DB)(nil)
	_ store.MessageLog  = (*DB)(nil)
	_ store.Outbox      = (*DB)(nil)
	_ store.Migrator    = (*DB)(nil)
	_ store.Pinger      = (*DB)(nil)
)

// An Option configures Open.
type Option func(*options)

type options struct {
	now      func() time.Time
	logger   *slog.Logger
	maxConns int
}

// WithClock sets the clock used where an interface method takes no now
// argument: token expiry and lock leases (TokenStore), dedup leases and
// record lifetimes (Dedup), migration times, and the default RunAt of a
// job. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithLogger sets the logger for migrations and background sweeps; the
// default discards. It never receives the connection URL or a secret.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithMaxConns caps the pool at n connections (n > 0). The default is
// pgxpool's: pool_max_conns from the URL, else the greater of 4 and the
// number of CPUs.
func WithMaxConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = n
		}
	}
}

// Open connects to the PostgreSQL database at url and checks that it
// answers. url is a libpq connection URL,
//
//	postgres://user:password@host:5432/dbname?sslmode=disable&search_path=wxkit
//
// ("postgresql://" and key=value strings work too). Query parameters that
// are not connection settings (search_path, application_name,
// statement_timeout, …) are sent as run-time parameters of every
// connection, so search_path selects the schema that holds wxkit's tables;
// pgxpool's pool_* parameters configure the pool. application_name defaults
// to "wxkit".
//
// Open does not migrate: call Migrate (the gateway does at start) or check
// SchemaReady. Errors never hold the URL's password.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	o := options{now: time.Now, logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, redact(fmt.Errorf("postgres: open: invalid URL: %w", err), url)
	}
	if o.maxConns > 0 {
		cfg.MaxConns = int32(min(o.maxConns, 1<<30))
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "wxkit"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, redact(fmt.Errorf("postgres: open: %w", err), url)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, redact(fmt.Errorf("postgres: open: %w", err), url)
	}
	db := &DB{pool: pool, now: o.now, logger: o.logger}
	db.claimGroup = newGroup(dedupKey, db.runClaims)
	db.completeGroup = newGroup(dedupKey, db.runCompletes)
	return db, nil
}

// Close closes every connection of the pool, waiting for those in use to
// be released. The DB and its views are unusable afterwards.
func (db *DB) Close() {
	db.claimGroup.close()
	db.completeGroup.close()
	db.pool.Close()
}

// Ping implements store.Pinger: it checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Pool returns the underlying connection pool, for tests and for SQL of
// the caller's own in the same database.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }
