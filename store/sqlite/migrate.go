package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wxkit/wxkit/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations reads the embedded migrations once.
var migrations = sync.OnceValues(func() ([]store.Migration, error) {
	return store.ReadMigrations(migrationFiles, "migrations")
})

// sqlMigrationsTable records the applied migrations: version, name and when
// (Unix ms).
const sqlMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL -- Unix ms
)`

// Migrate implements store.Migrator: it applies the migrations the database
// lacks, in order, and returns those it applied (none when the schema is
// current). Each runs in its own IMMEDIATE transaction that checks again,
// under SQLite's write lock, that the version is still missing, so that
// several processes (or DB handles) migrating one file at once apply each
// migration exactly once; a process that waits for another's migration
// waits at most BusyTimeout per migration. A file written before the schema
// was versioned is adopted: migration 1 creates only what is missing.
// Open does not migrate: call Migrate before using the stores of a DB.
func (db *DB) Migrate(ctx context.Context) ([]store.MigrationStatus, error) {
	ms, err := migrations()
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrate: %w", err)
	}
	applied, err := db.appliedMigrations(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrate: %w", err)
	}
	var done []store.MigrationStatus
	for _, m := range ms {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		st, ran, err := db.applyMigration(ctx, m)
		if err != nil {
			return done, fmt.Errorf("sqlite: migrate: %04d_%s: %w", m.Version, m.Name, err)
		}
		if ran {
			done = append(done, st)
		}
	}
	return done, nil
}

// applyMigration runs m in one IMMEDIATE transaction unless the database
// has it already (another process may have applied it since the caller
// looked). ran reports whether this call applied it.
func (db *DB) applyMigration(ctx context.Context, m store.Migration) (st store.MigrationStatus, ran bool, err error) {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: takes the write lock
	if err != nil {
		return st, false, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, sqlMigrationsTable); err != nil {
		return st, false, err
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE version = ?`, m.Version).Scan(&one)
	if err == nil {
		return st, false, nil // applied meanwhile
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return st, false, err
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return st, false, err
	}
	at := db.now().UnixMilli()
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, at); err != nil {
		return st, false, err
	}
	if err := tx.Commit(); err != nil {
		return st, false, err
	}
	return store.MigrationStatus{Version: m.Version, Name: m.Name, Applied: true, AppliedAt: time.UnixMilli(at)}, true, nil
}

// appliedMigrations returns the recorded migrations by version (none when
// schema_migrations does not exist yet).
func (db *DB) appliedMigrations(ctx context.Context) (map[int]store.MigrationStatus, error) {
	var n int
	if err := db.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil {
		return nil, err
	}
	out := make(map[int]store.MigrationStatus)
	if n == 0 {
		return out, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT version, name, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var st store.MigrationStatus
		var at int64
		if err := rows.Scan(&st.Version, &st.Name, &at); err != nil {
			return nil, err
		}
		st.Applied, st.AppliedAt = true, time.UnixMilli(at)
		out[st.Version] = st
	}
	return out, rows.Err()
}

// Migrations implements store.Migrator: every migration this package knows,
// in order, with whether and when the database applied it, followed by any
// version the database has applied that this package does not know (a
// newer release ran on the file), named "?".
func (db *DB) Migrations(ctx context.Context) ([]store.MigrationStatus, error) {
	ms, err := migrations()
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	applied, err := db.appliedMigrations(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	out := make([]store.MigrationStatus, 0, len(ms))
	for _, m := range ms {
		st := store.MigrationStatus{Version: m.Version, Name: m.Name}
		if a, ok := applied[m.Version]; ok {
			st.Applied, st.AppliedAt = true, a.AppliedAt
		}
		out = append(out, st)
	}
	var unknown []store.MigrationStatus
	for v, a := range applied {
		if v < 1 || v > len(ms) {
			unknown = append(unknown, store.MigrationStatus{Version: v, Name: "?", Applied: true, AppliedAt: a.AppliedAt})
		}
	}
	slices.SortFunc(unknown, func(a, b store.MigrationStatus) int { return a.Version - b.Version })
	return append(out, unknown...), nil
}

// SchemaReady returns nil when the database has applied every migration
// this package knows, else an error naming the missing ones (for a
// readiness check when migrations are run by another process).
func (db *DB) SchemaReady(ctx context.Context) error {
	ms, err := db.Migrations(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, m := range ms {
		if !m.Applied {
			missing = append(missing, strconv.Itoa(m.Version)+"_"+m.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("sqlite: schema not ready: migrations %s not applied", strings.Join(missing, ", "))
	}
	return nil
}

// Ping implements store.Pinger: it checks that the database answers a
// query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}
