package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/token/tokentest"
)

func openTemp(t *testing.T, path string, opts ...Option) *DB {
	t.Helper()
	db, err := Open("sqlite://"+path, opts...)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newStore migrates db and returns its token store.
func newStore(t *testing.T, db *DB) token.Store {
	t.Helper()
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	return db.TokenStore()
}

func TestTokenStoreFile(t *testing.T) {
	t.Parallel()
	tokentest.TestStore(t, func(t *testing.T) token.Store {
		return newStore(t, openTemp(t, filepath.Join(t.TempDir(), "wxkit.db")))
	})
}

func TestTokenStoreMemory(t *testing.T) {
	t.Parallel()
	tokentest.TestStore(t, func(t *testing.T) token.Store {
		db, err := Open(":memory:")
		if err != nil {
			t.Fatalf("Open(:memory:) = %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return newStore(t, db)
	})
}

// TestTokenStoreTwoHandles opens the same file through separate *DB handles,
// as separate processes would.
func TestTokenStoreTwoHandles(t *testing.T) {
	t.Parallel()
	tokentest.TestSharedStore(t, func(t *testing.T, n int) []token.Store {
		path := filepath.Join(t.TempDir(), "shared.db")
		out := make([]token.Store, n)
		for i := range out {
			out[i] = newStore(t, openTemp(t, path))
		}
		return out
	})
}
