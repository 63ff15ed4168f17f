package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name        string
		dsn         string
		wantPath    string
		wantJournal string
	}{
		{"scheme", "sqlite://" + filepath.Join(dir, "a.db"), filepath.Join(dir, "a.db"), "wal"},
		{"short scheme", "sqlite:" + filepath.Join(dir, "b.db"), filepath.Join(dir, "b.db"), "wal"},
		{"plain path", filepath.Join(dir, "c.db"), filepath.Join(dir, "c.db"), "wal"},
		{"memory", ":memory:", ":memory:", "memory"},
		{"scheme memory", "sqlite://:memory:", ":memory:", "memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(tt.dsn)
			if err != nil {
				t.Fatalf("Open(%q) = %v", tt.dsn, err)
			}
			defer db.Close()
			if db.Path != tt.wantPath {
				t.Errorf("Open(%q).Path = %q, want %q", tt.dsn, db.Path, tt.wantPath)
			}
			var journal string
			var fk, busy int
			if err := db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&journal); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRowContext(t.Context(), "PRAGMA foreign_keys").Scan(&fk); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRowContext(t.Context(), "PRAGMA busy_timeout").Scan(&busy); err != nil {
				t.Fatal(err)
			}
			if !strings.EqualFold(journal, tt.wantJournal) || fk != 1 || busy != int(BusyTimeout.Milliseconds()) {
				t.Errorf("Open(%q) pragmas journal_mode=%s foreign_keys=%d busy_timeout=%d, want %s 1 %d",
					tt.dsn, journal, fk, busy, tt.wantJournal, BusyTimeout.Milliseconds())
			}
		})
	}
	if _, err := Open("sqlite://"); err == nil {
		t.Errorf(`Open("sqlite://") = nil error, want an error`)
	}
}

func TestMemoryIsPrivateAndPersistent(t *testing.T) {
	t.Parallel()
	db, err := Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE x (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO x VALUES (42)`); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := db.QueryRowContext(t.Context(), `SELECT v FROM x`).Scan(&v); err != nil || v != 42 {
		t.Fatalf("SELECT v = %d, %v, want 42", v, err)
	}
	other, err := Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(t.Context(), `SELECT v FROM x`); err == nil {
		t.Errorf("second :memory: database sees the first one's table")
	}
}
