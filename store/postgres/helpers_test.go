package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/store/postgres/pgtest"
)

// newSchemaURL returns a URL whose search_path selects an empty schema
// of t's own, dropped in t.Cleanup (pgtest.SchemaURL).
func newSchemaURL(t testing.TB) string {
	t.Helper()
	return pgtest.SchemaURL(t)
}

// openURL opens a DB on u, closed in t.Cleanup.
func openURL(t testing.TB, u string, opts ...Option) *DB {
	t.Helper()
	db, err := Open(context.Background(), u, opts...)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// newMigrated returns a DB on a fresh, migrated schema of its own.
func newMigrated(t testing.TB, opts ...Option) *DB {
	t.Helper()
	db := openURL(t, newSchemaURL(t), opts...)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate = %v", err)
	}
	return db
}

// newShared returns n DBs (standing for n processes) on one fresh,
// migrated schema.
func newShared(t testing.TB, n int, opts ...Option) []*DB {
	t.Helper()
	u := newSchemaURL(t)
	dbs := make([]*DB, n)
	for i := range dbs {
		dbs[i] = openURL(t, u, opts...)
	}
	if _, err := dbs[0].Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate = %v", err)
	}
	return dbs
}

// fakeClock is a clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
