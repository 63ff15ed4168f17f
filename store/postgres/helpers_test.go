package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wxkit/wxkit/internal/testenv"
)

// newSchemaURL creates an empty schema of its own for t on the test server
// (wxkit_test_<random>) and returns the server URL with search_path set to
// it. The schema is dropped, with everything in it, in t.Cleanup.
func newSchemaURL(t testing.TB) string {
	t.Helper()
	base := testenv.PostgresURL(t)
	var b [8]byte
	rand.Read(b[:])
	schema := "wxkit_test_" + hex.EncodeToString(b[:])
	admin := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := admin(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if err := admin(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("test URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
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
