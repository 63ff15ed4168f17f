package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/storetest"
)

// openMigrated opens a new database file and migrates it.
func openMigrated(t *testing.T) *DB {
	t.Helper()
	db := openTemp(t, filepath.Join(t.TempDir(), "wxkit.db"))
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	t.Parallel()
	t.Run("Users", func(t *testing.T) {
		t.Parallel()
		storetest.TestUsers(t, func(t *testing.T) store.Users { return openMigrated(t) })
	})
	t.Run("Sessions", func(t *testing.T) {
		t.Parallel()
		storetest.TestSessions(t, func(t *testing.T) store.Sessions { return openMigrated(t) })
	})
	t.Run("OAuthStates", func(t *testing.T) {
		t.Parallel()
		storetest.TestOAuthStates(t, func(t *testing.T) store.OAuthStates { return openMigrated(t) })
	})
	t.Run("MessageLog", func(t *testing.T) {
		t.Parallel()
		storetest.TestMessageLog(t, func(t *testing.T) store.MessageLog { return openMigrated(t) })
	})
	t.Run("Outbox", func(t *testing.T) {
		t.Parallel()
		storetest.TestOutbox(t, func(t *testing.T) store.Outbox { return openMigrated(t) })
	})
	t.Run("Migrator", func(t *testing.T) {
		t.Parallel()
		// Three handles on one new file, as three instances started at once.
		path := filepath.Join(t.TempDir(), "fresh.db")
		var handles []store.Migrator
		for range 3 {
			handles = append(handles, openTemp(t, path))
		}
		storetest.TestMigrator(t, handles)
	})
}
