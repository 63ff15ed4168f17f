package redis

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/storetest"
)

// TestConformance runs the store suite for the kinds Redis holds against
// the test Redis, one key prefix per subtest.
func TestConformance(t *testing.T) {
	t.Parallel()
	t.Run("Sessions", func(t *testing.T) {
		t.Parallel()
		storetest.TestSessions(t, func(t *testing.T) store.Sessions { return newTestClient(t) })
	})
	t.Run("OAuthStates", func(t *testing.T) {
		t.Parallel()
		storetest.TestOAuthStates(t, func(t *testing.T) store.OAuthStates { return newTestClient(t) })
	})
}

// TestSessionKeyAndExpiry checks what CreateSession writes: one key,
// prefix + "wxkit:session:" + hex SHA-256 of the id, holding no trace of the
// id, with a Redis expiry of the session's lifetime.
func TestSessionKeyAndExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		clock   time.Time // the client's clock
		created time.Time
		expires time.Time
		wantTTL time.Duration
	}{
		{"lifetime from Created", time.Now(), time.UnixMilli(1_700_000_000_000), time.UnixMilli(1_700_000_000_000).Add(2 * time.Hour), 2 * time.Hour},
		{"no Created: until Expires by the client's clock", time.UnixMilli(1_700_000_000_000), time.Time{},
			time.UnixMilli(1_700_000_000_000).Add(30 * time.Minute), 30 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, WithClock(func() time.Time { return tt.clock }))
			const id = "c2Vzc2lvbi1pZC1ub3QtdG8tYmUtc3RvcmVk"
			if err := c.CreateSession(t.Context(), id, &store.Session{AppID: "wxapp", OpenID: "o1", Created: tt.created, Expires: tt.expires}); err != nil {
				t.Fatalf("CreateSession = %v", err)
			}
			ks := keys(t, c)
			if len(ks) != 1 || !strings.HasPrefix(ks[0], c.prefix+sessionPrefix) || len(ks[0]) != len(c.prefix+sessionPrefix)+64 {
				t.Fatalf("keys = %v, want one: prefix + %q + 64 hex digits", ks, sessionPrefix)
			}
			v, err := c.rdb.Get(t.Context(), ks[0]).Result()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(ks[0], id) || strings.Contains(v, id) {
				t.Errorf("the session id is stored (key %q, value %q)", ks[0], v)
			}
			ttl, err := c.rdb.PTTL(t.Context(), ks[0]).Result()
			if err != nil {
				t.Fatal(err)
			}
			if ttl > tt.wantTTL || ttl < tt.wantTTL-10*time.Second {
				t.Errorf("PTTL = %v, want about %v", ttl, tt.wantTTL)
			}
		})
	}
	t.Run("already expired", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		at := time.UnixMilli(1_700_000_000_000)
		if err := c.CreateSession(t.Context(), "id", &store.Session{AppID: "a", OpenID: "o", Created: at, Expires: at}); err == nil {
			t.Error("CreateSession(Expires == Created) = nil, want an error")
		}
	})
	t.Run("id in use", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		at := time.UnixMilli(1_700_000_000_000)
		s := &store.Session{AppID: "a", OpenID: "o", Created: at, Expires: at.Add(time.Hour)}
		if err := c.CreateSession(t.Context(), "id", s); err != nil {
			t.Fatal(err)
		}
		if err := c.CreateSession(t.Context(), "id", s); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateSession(id in use) = %v, want store.ErrConflict", err)
		}
	})
}

// TestStateExpiry checks the Redis expiry PutState sets: expires - now on
// the client's clock, at least StateMinTTL, so that a caller whose clock is
// behind still takes its nonce, and the expiry is judged on its clock.
func TestStateExpiry(t *testing.T) {
	t.Parallel()
	clock := time.UnixMilli(1_780_000_000_000)
	tests := []struct {
		name    string
		expires time.Time
		wantTTL time.Duration
	}{
		{"ahead of the client's clock", clock.Add(10 * time.Minute), 10 * time.Minute},
		{"behind the client's clock", clock.Add(-24 * time.Hour), StateMinTTL},
		{"just ahead", clock.Add(time.Second), StateMinTTL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, WithClock(func() time.Time { return clock }))
			if err := c.PutState(t.Context(), "nonce", "/back", tt.expires); err != nil {
				t.Fatalf("PutState = %v", err)
			}
			ttl, err := c.rdb.PTTL(t.Context(), c.stateKey("nonce")).Result()
			if err != nil {
				t.Fatal(err)
			}
			if ttl > tt.wantTTL || ttl < tt.wantTTL-10*time.Second {
				t.Errorf("PTTL = %v, want about %v", ttl, tt.wantTTL)
			}
			// The caller's clock decides.
			data, err := c.TakeState(t.Context(), "nonce", tt.expires.Add(-time.Millisecond))
			if err != nil || data != "/back" {
				t.Errorf("TakeState before expiry on the caller's clock = %q, %v; want /back", data, err)
			}
		})
	}
}
