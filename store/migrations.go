package store

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Migration is one versioned schema change of a SQL backend, read from an
// embedded file named "<version>_<name>.sql" (e.g. "0001_init.sql").
// Versions start at 1 and have no gaps; a migration, once released, never
// changes (a later one alters what it made).
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// MigrationStatus is one migration as a database has it.
type MigrationStatus struct {
	Version   int       `json:"version"`
	Name      string    `json:"name"`
	Applied   bool      `json:"applied"`
	AppliedAt time.Time `json:"applied_at,omitzero"`
}

// Migrator is implemented by the SQL backends. Their schema is versioned:
// a schema_migrations table records which migrations ran, and Migrate
// applies the missing ones in order, each in its own transaction, under a
// lock (PostgreSQL: an advisory lock; SQLite: the write lock), so that N
// instances started at once on an empty database all come up with the
// schema applied exactly once.
type Migrator interface {
	// Migrate applies the pending migrations and returns those it applied.
	Migrate(ctx context.Context) ([]MigrationStatus, error)
	// Migrations lists every migration the binary knows, with whether and
	// when the database applied it. A database that has applied a version
	// the binary does not know (a newer binary ran) lists it with Name "?".
	Migrations(ctx context.Context) ([]MigrationStatus, error)
}

// Pinger is implemented by every backend: Ping checks that it answers
// (the gateway's /readyz).
type Pinger interface {
	Ping(ctx context.Context) error
}

// ReadMigrations reads the migrations in dir of fsys ("0001_init.sql",
// "0002_outbox.sql", …), sorted by version. It fails on a name that does
// not follow the pattern, a duplicate version or a gap.
func ReadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		base := strings.TrimSuffix(e.Name(), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || name == "" {
			return nil, fmt.Errorf("store: migrations: %q is not <version>_<name>.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: migrations: %w", err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("store: migrations: version %d missing or duplicated (found %d_%s)", i+1, m.Version, m.Name)
		}
	}
	return ms, nil
}
