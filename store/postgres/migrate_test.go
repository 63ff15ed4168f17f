package postgres

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/store"
)

func TestEmbeddedMigrations(t *testing.T) {
	t.Parallel()
	if migrationsErr != nil {
		t.Fatalf("embedded migrations: %v", migrationsErr)
	}
	if len(migrations) == 0 || migrations[0].Name != "init" {
		t.Fatalf("embedded migrations = %v, want 0001_init first", migrations)
	}
}

// TestOpenDoesNotMigrate checks the status of an empty schema before and
// after Migrate.
func TestOpenDoesNotMigrate(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	db := openURL(t, newSchemaURL(t), WithClock(clock.Now))
	list, err := db.Migrations(t.Context())
	if err != nil {
		t.Fatalf("Migrations() on an empty schema = %v", err)
	}
	var want []store.MigrationStatus
	for _, m := range migrations {
		want = append(want, store.MigrationStatus{Version: m.Version, Name: m.Name})
	}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("Migrations() on an empty schema mismatch (-want +got):\n%s", diff)
	}
	err = db.SchemaReady(t.Context())
	if !errors.Is(err, ErrSchemaNotReady) || !strings.Contains(err.Error(), "0001_init") {
		t.Errorf("SchemaReady() on an empty schema = %v, want ErrSchemaNotReady naming 0001_init", err)
	}

	applied, err := db.Migrate(t.Context())
	if err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	for i := range want {
		want[i].Applied, want[i].AppliedAt = true, clock.Now()
	}
	if diff := cmp.Diff(want, applied, timeUS); diff != "" {
		t.Errorf("Migrate() mismatch (-want +got):\n%s", diff)
	}
	list, err = db.Migrations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, list, timeUS); diff != "" {
		t.Errorf("Migrations() after Migrate mismatch (-want +got):\n%s", diff)
	}
	if err := db.SchemaReady(t.Context()); err != nil {
		t.Errorf("SchemaReady() after Migrate = %v, want nil", err)
	}
	again, err := db.Migrate(t.Context())
	if err != nil || len(again) != 0 {
		t.Errorf("second Migrate() = %v, %v; want nothing applied", again, err)
	}

	// A newer binary has applied a version this one does not know.
	if _, err := db.Pool().Exec(t.Context(), `INSERT INTO schema_migrations VALUES (999, 'future', $1)`, clock.Now()); err != nil {
		t.Fatal(err)
	}
	list, err = db.Migrations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, store.MigrationStatus{Version: 999, Name: "?", Applied: true, AppliedAt: clock.Now()})
	if diff := cmp.Diff(want, list, timeUS); diff != "" {
		t.Errorf("Migrations() with an unknown version mismatch (-want +got):\n%s", diff)
	}
	if err := db.SchemaReady(t.Context()); err != nil {
		t.Errorf("SchemaReady() with an extra newer version = %v, want nil", err)
	}
}

// timeUS compares times at PostgreSQL's precision, the microsecond.
var timeUS = cmp.Comparer(func(a, b time.Time) bool { return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond)) })

// TestConcurrentOpenMigrate starts three instances on one empty schema at
// once: each Opens and Migrates; all must succeed and every migration must
// be recorded, and applied, once.
func TestConcurrentOpenMigrate(t *testing.T) {
	t.Parallel()
	u := newSchemaURL(t)
	const n = 3
	applied := make([][]store.MigrationStatus, n)
	errs := make([]error, n)
	dbs := make([]*DB, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			db, err := Open(t.Context(), u)
			if err != nil {
				errs[i] = err
				return
			}
			dbs[i] = db
			applied[i], errs[i] = db.Migrate(t.Context())
		})
	}
	close(start)
	wg.Wait()
	for _, db := range dbs {
		if db != nil {
			t.Cleanup(db.Close)
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: Open+Migrate = %v", i, err)
		}
	}
	byVersion := map[int]int{}
	for _, a := range applied {
		for _, m := range a {
			byVersion[m.Version]++
		}
	}
	for _, m := range migrations {
		if byVersion[m.Version] != 1 {
			t.Errorf("migration %d applied by %d instances, want 1", m.Version, byVersion[m.Version])
		}
	}
	var rows, distinct int
	if err := dbs[0].Pool().QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != len(migrations) || distinct != len(migrations) {
		t.Errorf("schema_migrations holds %d rows (%d versions), want %d", rows, distinct, len(migrations))
	}
}

// TestMigrateLockPerSchema holds the migration lock of one schema and
// checks that Migrate there waits for it while Migrate on another schema
// of the same database does not.
func TestMigrateLockPerSchema(t *testing.T) {
	t.Parallel()
	a := openURL(t, newSchemaURL(t))
	b := openURL(t, newSchemaURL(t))
	conn, err := a.Pool().Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(t.Context(), `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, migrateLockClass); err != nil {
		t.Fatal(err)
	}
	unlocked := false
	unlock := func() {
		if !unlocked {
			unlocked = true
			if _, err := conn.Exec(context.WithoutCancel(t.Context()), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, migrateLockClass); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer unlock()

	bctx, bcancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer bcancel()
	if _, err := b.Migrate(bctx); err != nil {
		t.Fatalf("Migrate() on another schema while the lock is held = %v, want success without waiting", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if applied, err := a.Migrate(ctx); !errors.Is(err, context.DeadlineExceeded) || len(applied) != 0 {
		t.Fatalf("Migrate() while its schema's lock is held = %v, %v; want to wait (context.DeadlineExceeded)", applied, err)
	}
	if err := a.SchemaReady(t.Context()); !errors.Is(err, ErrSchemaNotReady) {
		t.Errorf("SchemaReady() after a Migrate that waited = %v, want ErrSchemaNotReady", err)
	}
	unlock()
	if _, err := a.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate() after the lock is released = %v", err)
	}
	if err := a.SchemaReady(t.Context()); err != nil {
		t.Errorf("SchemaReady() = %v", err)
	}
}

// TestMigrateFailureRollsBack applies a list whose second migration fails
// halfway: the first stays applied, nothing of the second remains, and a
// fixed list then applies it.
func TestMigrateFailureRollsBack(t *testing.T) {
	t.Parallel()
	db := openURL(t, newSchemaURL(t))
	bad := []store.Migration{
		{Version: 1, Name: "one", SQL: `CREATE TABLE t_one (x int)`},
		{Version: 2, Name: "two", SQL: `CREATE TABLE t_two (x int); INSERT INTO t_two VALUES ('not a number')`},
	}
	applied, err := db.migrate(t.Context(), bad)
	if err == nil || !strings.HasPrefix(err.Error(), "postgres: migrate: 0002_two: ") {
		t.Fatalf("migrate(bad) = %v, want an error naming 0002_two", err)
	}
	if len(applied) != 1 || applied[0].Version != 1 {
		t.Errorf("migrate(bad) applied %v, want version 1 only", applied)
	}
	var two bool
	if err := db.Pool().QueryRow(t.Context(), `SELECT to_regclass('t_two') IS NOT NULL`).Scan(&two); err != nil {
		t.Fatal(err)
	}
	if two {
		t.Errorf("table t_two exists after its migration failed, want it rolled back")
	}
	good := []store.Migration{bad[0], {Version: 2, Name: "two", SQL: `CREATE TABLE t_two (x int)`}}
	applied, err = db.migrate(t.Context(), good)
	if err != nil || len(applied) != 1 || applied[0].Version != 2 {
		t.Fatalf("migrate(fixed) = %v, %v; want version 2 applied", applied, err)
	}
	list, err := db.migrations(t.Context(), good)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if !m.Applied {
			t.Errorf("migration %d not applied: %+v", m.Version, m)
		}
	}
}

func TestMigrateWithoutSchema(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(newSchemaURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", q.Get("search_path")+"_missing") // a schema that does not exist
	u.RawQuery = q.Encode()
	db := openURL(t, u.String())
	_, err = db.Migrate(t.Context())
	if err == nil || !strings.Contains(err.Error(), "search_path") {
		t.Errorf("Migrate() with no existing schema on the search_path = %v, want an error naming search_path", err)
	}
}
