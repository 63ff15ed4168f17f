package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wxkit/wxkit/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations are the versioned schema changes of this package, read once.
var migrations, migrationsErr = store.ReadMigrations(migrationFS, "migrations")

// migrateLockClass is the first key of the advisory lock that serialises
// Migrate; the second is hashtext(current_schema()), so that databases
// with wxkit in different schemas migrate independently. The value spells
// "wxkt".
const migrateLockClass = 0x77786b74

// lockSQL takes the migration lock of the current schema until the end of
// the transaction.
const lockSQL = `SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))`

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer     PRIMARY KEY,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL
)`

// Migrate implements store.Migrator: it applies the pending migrations in
// order and returns those it applied (none when the schema is up to date).
//
// Each migration runs in a transaction of its own that first takes a
// transaction-level advisory lock (pg_advisory_xact_lock(0x77786b74,
// hashtext(current_schema()))), then creates schema_migrations if needed,
// reads which versions are applied, applies the lowest missing one and
// records it. Instances that migrate at the same moment therefore queue on
// the lock, and each finds the versions applied by those before it: every
// instance comes up, and every migration runs once. A migration that fails
// rolls back entirely and Migrate returns its error, having kept those
// before it.
func (db *DB) Migrate(ctx context.Context) ([]store.MigrationStatus, error) {
	if migrationsErr != nil {
		return nil, wrap("migrate", migrationsErr)
	}
	return db.migrate(ctx, migrations)
}

// migrate applies the missing ones of ms (sorted by version).
func (db *DB) migrate(ctx context.Context, ms []store.Migration) ([]store.MigrationStatus, error) {
	var schema *string
	if err := db.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, wrap("migrate", err)
	}
	if schema == nil {
		return nil, errors.New("postgres: migrate: no schema to create the tables in: " +
			"the search_path names no schema that exists (create it first)")
	}
	var applied []store.MigrationStatus
	for {
		st, ok, err := db.migrateOne(ctx, ms)
		if err != nil {
			return applied, err
		}
		if !ok {
			return applied, nil
		}
		db.logger.Info("postgres: migration applied", "version", st.Version, "name", st.Name)
		applied = append(applied, st)
	}
}

// migrateOne applies the lowest pending migration of ms in one transaction
// under the migration lock; ok is false when none is pending.
func (db *DB) migrateOne(ctx context.Context, ms []store.Migration) (st store.MigrationStatus, ok bool, err error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return st, false, wrap("migrate", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, lockSQL, migrateLockClass); err != nil {
		return st, false, wrap("migrate: lock", err)
	}
	if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
		return st, false, wrap("migrate: schema_migrations", err)
	}
	done, err := appliedVersions(ctx, tx)
	if err != nil {
		return st, false, err
	}
	var next *store.Migration
	for i := range ms {
		if _, ok := done[ms[i].Version]; !ok {
			next = &ms[i]
			break
		}
	}
	if next == nil {
		return st, false, tx.Commit(ctx)
	}
	if _, err := tx.Exec(ctx, next.SQL); err != nil {
		return st, false, wrap(fmt.Sprintf("migrate: %04d_%s", next.Version, next.Name), err)
	}
	at := db.now()
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		next.Version, next.Name, at); err != nil {
		return st, false, wrap("migrate: record", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return st, false, wrap(fmt.Sprintf("migrate: %04d_%s", next.Version, next.Name), err)
	}
	return store.MigrationStatus{Version: next.Version, Name: next.Name, Applied: true, AppliedAt: at}, true, nil
}

// querier is what pgxpool.Pool, pgx.Conn and pgx.Tx have in common.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// appliedVersions returns the applied_at of every version recorded in
// schema_migrations; none when the table does not exist yet.
func appliedVersions(ctx context.Context, q querier) (map[int]time.Time, error) {
	rows, err := q.Query(ctx, `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		if isCode(err, codeUndefinedTable) {
			return map[int]time.Time{}, nil
		}
		return nil, wrap("migrations", err)
	}
	done := map[int]time.Time{}
	var v int
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&v, &at}, func() error {
		done[v] = at
		return nil
	})
	if err != nil {
		if isCode(err, codeUndefinedTable) {
			return map[int]time.Time{}, nil
		}
		return nil, wrap("migrations", err)
	}
	return done, nil
}

// Migrations implements store.Migrator: every migration this binary knows,
// in version order, with whether and when the database applied it,
// followed by versions the database has applied that this binary does not
// know (Name "?"). A database never migrated lists every migration as not
// applied.
func (db *DB) Migrations(ctx context.Context) ([]store.MigrationStatus, error) {
	if migrationsErr != nil {
		return nil, wrap("migrations", migrationsErr)
	}
	return db.migrations(ctx, migrations)
}

// migrations lists the status of ms, then of the versions the database
// has applied that ms lacks.
func (db *DB) migrations(ctx context.Context, ms []store.Migration) ([]store.MigrationStatus, error) {
	done, err := appliedVersions(ctx, db.pool)
	if err != nil {
		return nil, err
	}
	out := make([]store.MigrationStatus, 0, len(ms))
	for _, m := range ms {
		at, ok := done[m.Version]
		out = append(out, store.MigrationStatus{Version: m.Version, Name: m.Name, Applied: ok, AppliedAt: at})
		delete(done, m.Version)
	}
	var unknown []int
	for v := range done {
		unknown = append(unknown, v)
	}
	slices.Sort(unknown)
	for _, v := range unknown {
		out = append(out, store.MigrationStatus{Version: v, Name: "?", Applied: true, AppliedAt: done[v]})
	}
	return out, nil
}

// SchemaReady returns nil when the database has applied every migration
// this binary knows, else an error wrapping ErrSchemaNotReady that names
// the missing ones (or the error that kept it from checking).
func (db *DB) SchemaReady(ctx context.Context) error {
	list, err := db.Migrations(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, m := range list {
		if !m.Applied {
			missing = append(missing, fmt.Sprintf("%04d_%s", m.Version, m.Name))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %d of %d migrations missing (%s); run Migrate (wxkit migrate)",
			ErrSchemaNotReady, len(missing), len(migrations), strings.Join(missing, ", "))
	}
	return nil
}
