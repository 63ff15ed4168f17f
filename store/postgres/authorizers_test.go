package postgres

import (
	"testing"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/storetest"
)

func TestAuthorizersConformance(t *testing.T) {
	t.Parallel()
	storetest.TestAuthorizers(t, func(t *testing.T) store.Authorizers { return newMigrated(t) })
}

// TestAuthorizersAcrossHandles: an authorizer put through one DB is read
// through another on the same schema, as by another instance.
func TestAuthorizersAcrossHandles(t *testing.T) {
	t.Parallel()
	dbs := newShared(t, 2)
	put := &store.Authorizer{ComponentAppID: "wxc", AppID: "wxa", RefreshToken: []byte{0, 1, 2}, FuncInfo: []int{1, 2}, Authorized: true}
	if err := dbs[0].PutAuthorizer(t.Context(), put); err != nil {
		t.Fatalf("PutAuthorizer() = %v", err)
	}
	got, err := dbs[1].Authorizer(t.Context(), "wxc", "wxa")
	if err != nil {
		t.Fatalf("Authorizer() through the second DB = %v", err)
	}
	if string(got.RefreshToken) != "\x00\x01\x02" || !got.Authorized || len(got.FuncInfo) != 2 {
		t.Errorf("Authorizer() through the second DB = %+v, want the put", got)
	}
}
