package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/postgres"
	redisstore "github.com/wxkit/wxkit/store/redis"
	"github.com/wxkit/wxkit/store/sqlite"
	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/webhook"
)

// Stores are the stores a Gateway keeps its state in, as the interfaces
// it uses: nothing in the gateway but OpenStores names a driver. Build them
// with OpenStores (what `wxkit serve` does), or assemble them in a test
// and pass them with WithStores.
type Stores struct {
	// Tokens holds access tokens, tickets and the leases (locks) that make
	// one instance fetch for all.
	Tokens token.Store
	// Dedup is the shared store of webhook dedup claims, so that a push
	// delivered to several instances runs its handler once; nil means
	// claims are kept in each instance's memory only.
	Dedup webhook.DedupStore
	// Users, Sessions and States are web and Mini Program login's.
	Users    store.Users
	Sessions store.Sessions
	States   store.OAuthStates
	// Messages is the message log (webhook.message_log).
	Messages store.MessageLog
	// Outbox holds work that must be done at least once: late replies,
	// paid events.
	Outbox store.Outbox
	// Orders holds WeChat Pay orders and refunds (pay:); it must share
	// Outbox's database, as it enqueues paid events in its transactions.
	Orders store.Orders
	// Authorizers holds the accounts that authorized the Open Platform
	// components (components:), with their encrypted refresh tokens.
	Authorizers store.Authorizers
	// Shared reports that several instances may share these stores
	// (PostgreSQL, or Redis for the ephemeral kinds): state such as
	// oauth.secret must then be the same on every instance.
	Shared bool
	// Describe names the stores for logs ("sqlite wxkit.db", "postgres
	// db.example:5432/wxkit + redis 10.0.0.5:6379/0"); no secrets.
	Describe string

	checks  []readyCheck
	closers []func() error
}

// readyCheck is one check of /readyz.
type readyCheck struct {
	name  string
	check func(ctx context.Context) error
}

// AddCheck adds a readiness check (GET /readyz runs them all).
func (s *Stores) AddCheck(name string, check func(ctx context.Context) error) {
	s.checks = append(s.checks, readyCheck{name, check})
}

// OnClose registers f to run by Close (in reverse order).
func (s *Stores) OnClose(f func() error) { s.closers = append(s.closers, f) }

// Close releases what OpenStores opened.
func (s *Stores) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// StoreOptions tune OpenStores.
type StoreOptions struct {
	// Logger receives the drivers' log lines.
	Logger *slog.Logger
	// DedupBackedByLog tells the stores that the message log keeps every
	// answered message with its reply (webhook.message_log is durable or
	// async) and that the gateway reloads the recent ones into its dedup
	// memory at start: SQLite's dedup store then skips writing the keys it
	// completes while alone on the file (one row write per message less).
	DedupBackedByLog bool
}

// OpenStores opens the stores named by storeURL and redisURL (the store:
// and redis: configuration keys) and applies the SQL migrations:
//
//	sqlite://PATH      everything in one SQLite file
//	postgres://…       everything in PostgreSQL (postgresql:// too); many
//	                   instances may share it
//	redis: redis://…   optional: tokens, locks, dedup claims, OAuth states
//	                   and sessions move to Redis; users, the message log,
//	                   the outbox and pay orders stay in the SQL store
//
// A Redis that does not answer at start is not fatal: the gateway starts
// (the stores it holds fail until then, which pushes, tokens already held
// and logins ride out as during any Redis outage), /readyz reports it, and
// the client connects when it answers. Errors name
// the configuration key and never contain a password.
func OpenStores(ctx context.Context, storeURL, redisURL string, o StoreOptions) (*Stores, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Stores{}
	switch {
	case strings.HasPrefix(storeURL, "sqlite:"):
		var opts []sqlite.Option
		if o.DedupBackedByLog {
			opts = append(opts, sqlite.WithoutDedupWriteBehind())
		}
		db, err := sqlite.Open(storeURL, opts...)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		s.OnClose(db.Close)
		if _, err := db.Migrate(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("store: %w", err)
		}
		s.Tokens, s.Dedup = db.TokenStore(), db.Dedup()
		s.Users, s.Sessions, s.States, s.Messages, s.Outbox = db, db, db, db, db
		s.Orders, s.Authorizers = db, db
		s.AddCheck("store", func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return err
			}
			return db.SchemaReady(ctx)
		})
		s.Describe = "sqlite " + db.Path
	case strings.HasPrefix(storeURL, "postgres://"), strings.HasPrefix(storeURL, "postgresql://"):
		db, err := postgres.Open(ctx, storeURL, postgres.WithLogger(o.Logger))
		if err != nil {
			return nil, fmt.Errorf("store: %q: %w", redactURL(storeURL), err)
		}
		s.OnClose(func() error { db.Close(); return nil })
		if _, err := db.Migrate(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("store: %q: %w", redactURL(storeURL), err)
		}
		s.Tokens, s.Dedup = db.TokenStore(), db.Dedup()
		s.Users, s.Sessions, s.States, s.Messages, s.Outbox = db, db, db, db, db
		s.Orders, s.Authorizers = db, db
		s.AddCheck("store", func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return err
			}
			return db.SchemaReady(ctx)
		})
		s.Shared = true
		s.Describe = "postgres " + hostAndPath(storeURL)
	default:
		return nil, fmt.Errorf("store: %q must be sqlite://PATH or postgres://…", redactURL(storeURL))
	}
	if redisURL != "" {
		redisstore.SetLogger(o.Logger)
		rc, err := openRedis(redisURL, o.Logger)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("redis: %q: %w", redactURL(redisURL), err)
		}
		s.OnClose(rc.Close)
		s.Tokens = redisstore.NewTokenStore(rc)
		s.Dedup = redisstore.NewDedup(rc)
		s.Sessions, s.States = rc, rc
		s.AddCheck("redis", rc.Ping)
		s.Shared = true
		s.Describe += " + redis " + hostAndPath(redisURL)
	}
	return s, nil
}

// openRedis connects to the Redis of raw. A "prefix" query parameter
// (redis://host:6379/0?prefix=wxkit-prod:) is put in front of every key, for
// several deployments or tests sharing one Redis; the other parameters are
// go-redis's.
func openRedis(raw string, logger *slog.Logger) (*redisstore.Client, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("malformed URL (want redis://host:port/db)")
	}
	q := u.Query()
	prefix := q.Get("prefix")
	q.Del("prefix")
	u.RawQuery = q.Encode()
	var opts []redisstore.Option
	if prefix != "" {
		opts = append(opts, redisstore.WithKeyPrefix(prefix))
	}
	return redisstore.Connect(u.String(), opts...)
}

// hostAndPath returns host[:port]/path of a URL, without user info or
// query, for log lines.
func hostAndPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	return u.Host + u.Path
}

// OpenMigrator opens the SQL store of storeURL without migrating it, for
// `wxkit migrate` (operators who migrate before a deploy). Close it with
// the returned function.
func OpenMigrator(ctx context.Context, storeURL string) (store.Migrator, func() error, error) {
	switch {
	case strings.HasPrefix(storeURL, "sqlite:"):
		db, err := sqlite.Open(storeURL)
		if err != nil {
			return nil, nil, fmt.Errorf("store: %w", err)
		}
		return db, db.Close, nil
	case strings.HasPrefix(storeURL, "postgres://"), strings.HasPrefix(storeURL, "postgresql://"):
		db, err := postgres.Open(ctx, storeURL)
		if err != nil {
			return nil, nil, fmt.Errorf("store: %q: %w", redactURL(storeURL), err)
		}
		return db, func() error { db.Close(); return nil }, nil
	}
	return nil, nil, fmt.Errorf("store: %q must be sqlite://PATH or postgres://…", redactURL(storeURL))
}
