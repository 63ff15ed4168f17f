package openplatform

import (
	"path/filepath"
	"testing"

	"github.com/wxkit/wxkit/store/sqlite"
)

// sqliteStores opens three handles on one new SQLite file, standing for
// three processes of one host, each used as token and authorizer store.
func sqliteStores(t *testing.T, clock *testClock) []stores {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wxkit.db")
	var out []stores
	for i := range 3 {
		db, err := sqlite.Open("sqlite://"+path, sqlite.WithClock(clock.Now))
		if err != nil {
			t.Fatalf("sqlite.Open = %v", err)
		}
		t.Cleanup(func() { db.Close() })
		if i == 0 {
			if _, err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate = %v", err)
			}
		}
		out = append(out, stores{db.TokenStore(), db})
	}
	return out
}
