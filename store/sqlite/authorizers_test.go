package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/storetest"
)

func TestAuthorizersConformance(t *testing.T) {
	t.Parallel()
	storetest.TestAuthorizers(t, func(t *testing.T) store.Authorizers { return openMigrated(t) })
}

// TestAuthorizersAcrossHandles: an authorizer put through one handle on a
// file is read through another, as by another process.
func TestAuthorizersAcrossHandles(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := openTemp(t, path), openTemp(t, path)
	if _, err := a.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	put := &store.Authorizer{ComponentAppID: "wxc", AppID: "wxa", RefreshToken: []byte{0, 1, 2}, Authorized: true}
	if err := a.PutAuthorizer(t.Context(), put); err != nil {
		t.Fatalf("PutAuthorizer() = %v", err)
	}
	got, err := b.Authorizer(t.Context(), "wxc", "wxa")
	if err != nil {
		t.Fatalf("Authorizer() through the second handle = %v", err)
	}
	if string(got.RefreshToken) != "\x00\x01\x02" || !got.Authorized {
		t.Errorf("Authorizer() through the second handle = %+v, want the put", got)
	}
}
