package sqlite

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/webhook"
)

// TestStoresUseTheDBClock checks that the token and dedup stores of a DB
// opened WithClock expire entries on that clock.
func TestStoresUseTheDBClock(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.UnixMilli(1_700_000_000_000) // years before the wall clock
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	db := openTemp(t, filepath.Join(t.TempDir(), "clock.db"), WithClock(clock))
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tokens, dedup := db.TokenStore(), db.Dedup()
	if err := tokens.Set(ctx, "k", &token.Token{Value: "v", Expiry: clock().Add(time.Minute)}); err != nil {
		t.Fatalf("Set = %v", err)
	}
	if c, err := dedup.Claim(ctx, "m", time.Minute); err != nil || c.State != webhook.ClaimOwned {
		t.Fatalf("Claim = %v, %v; want owned", c.State, err)
	}
	if tok, err := tokens.Get(ctx, "k"); err != nil || tok.Value != "v" {
		t.Errorf("Get before expiry = %+v, %v; want v", tok, err)
	}
	if c, err := dedup.Claim(ctx, "m", time.Minute); err != nil || c.State != webhook.ClaimPending {
		t.Errorf("second Claim before expiry = %v, %v; want pending", c.State, err)
	}
	advance(2 * time.Minute)
	if _, err := tokens.Get(ctx, "k"); !errors.Is(err, token.ErrNotFound) {
		t.Errorf("Get after expiry on the DB clock = %v, want token.ErrNotFound", err)
	}
	if c, err := dedup.Claim(ctx, "m", time.Minute); err != nil || c.State != webhook.ClaimOwned {
		t.Errorf("Claim after the lease on the DB clock = %v, %v; want owned", c.State, err)
	}
}
