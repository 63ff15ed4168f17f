package redis

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// keys returns every key under c's prefix.
func keys(t *testing.T, c *Client) []string {
	t.Helper()
	var out []string
	iter := c.rdb.Scan(t.Context(), 0, c.prefix+"*", 100).Iterator()
	for iter.Next(t.Context()) {
		out = append(out, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOAuthStateStore runs against the test Redis (internal/testenv:
// skipped when unreachable, fatal under CI=true).
func TestOAuthStateStore(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, tc := range []struct {
		name     string
		data     string
		expires  time.Duration // after now
		takeAt   time.Duration // after now
		wantOK   bool
		wantData string
	}{
		{"taken before expiry with data", "/a/long/return?x=1", time.Minute, 30 * time.Second, true, "/a/long/return?x=1"},
		{"taken before expiry, empty data", "", time.Minute, 0, true, ""},
		{"data with a colon", "https://h:8443/p", time.Minute, 0, true, "https://h:8443/p"},
		{"expired on the caller's clock", "/x", time.Minute, time.Minute, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewOAuthStateStore(newTestClient(t))
			ctx := t.Context()
			if err := s.Put(ctx, "nonce1", tc.data, now.Add(tc.expires), now); err != nil {
				t.Fatalf("Put = %v", err)
			}
			data, ok, err := s.Take(ctx, "nonce1", now.Add(tc.takeAt))
			if err != nil || ok != tc.wantOK || data != tc.wantData {
				t.Fatalf("Take = %q, %v, %v; want %q, %v, nil", data, ok, err, tc.wantData, tc.wantOK)
			}
			// Single use: whatever the first take said, a second one fails.
			if data, ok, err := s.Take(ctx, "nonce1", now); err != nil || ok || data != "" {
				t.Errorf("second Take = %q, %v, %v; want \"\", false, nil", data, ok, err)
			}
		})
	}

	t.Run("unknown nonce", func(t *testing.T) {
		t.Parallel()
		s := NewOAuthStateStore(newTestClient(t))
		if data, ok, err := s.Take(t.Context(), "never-stored", now); err != nil || ok || data != "" {
			t.Errorf("Take = %q, %v, %v; want \"\", false, nil", data, ok, err)
		}
	})

	t.Run("put refuses a duplicate, empty or expired nonce", func(t *testing.T) {
		t.Parallel()
		s := NewOAuthStateStore(newTestClient(t))
		ctx := t.Context()
		if err := s.Put(ctx, "dup", "first", now.Add(time.Minute), now); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, "dup", "second", now.Add(time.Minute), now); err == nil {
			t.Error("Put of a stored nonce = nil, want an error")
		}
		if data, ok, _ := s.Take(ctx, "dup", now); !ok || data != "first" {
			t.Errorf("Take after a refused duplicate = %q, %v; want \"first\", true", data, ok)
		}
		if err := s.Put(ctx, "", "x", now.Add(time.Minute), now); err == nil {
			t.Error("Put of an empty nonce = nil, want an error")
		}
		if err := s.Put(ctx, "late", "x", now, now); err == nil {
			t.Error("Put of an expired nonce = nil, want an error")
		}
	})

	t.Run("the Redis expiry (PX) is expires - now", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		s := NewOAuthStateStore(c)
		ctx := t.Context()
		if err := s.Put(ctx, "ttl", "", now.Add(90*time.Second), now); err != nil {
			t.Fatal(err)
		}
		ttl, err := c.rdb.PTTL(ctx, c.key(oauthStatePrefix+"ttl")).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 80*time.Second || ttl > 90*time.Second {
			t.Errorf("PTTL = %v, want about 90s (expires - now)", ttl)
		}
	})

	t.Run("concurrent takes across clients: exactly one wins", func(t *testing.T) {
		t.Parallel()
		first := newTestClient(t)
		other := otherClient(t, first)
		stores := []*OAuthStateStore{NewOAuthStateStore(first), NewOAuthStateStore(other)}
		ctx := t.Context()
		if err := stores[0].Put(ctx, "race", "/r", now.Add(time.Minute), now); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		wins := 0
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				_, ok, err := stores[i%2].Take(ctx, "race", now)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("%d of 16 concurrent takes won, want 1", wins)
		}
	})
}

func TestSessionStore(t *testing.T) {
	t.Parallel()
	now := time.Now().Truncate(time.Millisecond)
	const id = "Zm9vYmFyLXJhbmRvbS1zZXNzaW9uLWlkLTMyLWJ5dGVzLWxvbmc"
	sess := Session{AppID: "wx00000000000000a1", OpenID: "oUser1", Created: now, Expires: now.Add(time.Hour),
		User: json.RawMessage(`{"appid":"wx00000000000000a1","openid":"oUser1","nickname":"张三"}`)}

	t.Run("create, get, delete", func(t *testing.T) {
		t.Parallel()
		s := NewSessionStore(newTestClient(t))
		ctx := t.Context()
		if err := s.Create(ctx, id, sess, now); err != nil {
			t.Fatalf("Create = %v", err)
		}
		got, err := s.Get(ctx, id, now.Add(time.Minute))
		if err != nil {
			t.Fatalf("Get = %v", err)
		}
		if d := cmp.Diff(sess, *got); d != "" {
			t.Errorf("Get mismatch (-want +got):\n%s", d)
		}
		if _, err := s.Get(ctx, id+"x", now); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("Get of another id = %v, want ErrSessionNotFound", err)
		}
		if err := s.Create(ctx, id, sess, now); err == nil {
			t.Error("Create of an id in use = nil, want an error")
		}
		if err := s.Delete(ctx, id); err != nil {
			t.Fatalf("Delete = %v", err)
		}
		if _, err := s.Get(ctx, id, now); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("Get after Delete = %v, want ErrSessionNotFound", err)
		}
		if err := s.Delete(ctx, id); err != nil {
			t.Errorf("Delete of an unknown id = %v, want nil", err)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		s := NewSessionStore(c)
		ctx := t.Context()
		if err := s.Create(ctx, id, sess, now); err != nil {
			t.Fatal(err)
		}
		// On the caller's clock: gone at Expires.
		if _, err := s.Get(ctx, id, sess.Expires.Add(-time.Millisecond)); err != nil {
			t.Errorf("Get just before expiry = %v, want the session", err)
		}
		if _, err := s.Get(ctx, id, sess.Expires); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("Get at expiry = %v, want ErrSessionNotFound", err)
		}
		// In Redis: PX is the session TTL.
		ks := keys(t, c)
		if len(ks) != 1 {
			t.Fatalf("keys = %v, want one", ks)
		}
		ttl, err := c.rdb.PTTL(ctx, ks[0]).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 59*time.Minute || ttl > time.Hour {
			t.Errorf("PTTL = %v, want about 1h (the session TTL)", ttl)
		}
		if err := s.Create(ctx, "expired-already", Session{AppID: "a", OpenID: "o", Expires: now}, now); err == nil {
			t.Error("Create of an expired session = nil, want an error")
		}
	})

	t.Run("create refuses missing fields", func(t *testing.T) {
		t.Parallel()
		s := NewSessionStore(newTestClient(t))
		for _, tc := range []struct {
			name string
			id   string
			s    Session
		}{
			{"no id", "", sess},
			{"no appid", id, Session{OpenID: "o", Expires: now.Add(time.Hour)}},
			{"no openid", id, Session{AppID: "a", Expires: now.Add(time.Hour)}},
		} {
			if err := s.Create(t.Context(), tc.id, tc.s, now); err == nil {
				t.Errorf("%s: Create = nil, want an error", tc.name)
			}
		}
	})

	t.Run("the cookie value is never stored", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		s := NewSessionStore(c)
		ctx := t.Context()
		if err := s.Create(ctx, id, sess, now); err != nil {
			t.Fatal(err)
		}
		ks := keys(t, c)
		if len(ks) != 1 {
			t.Fatalf("keys = %v, want one", ks)
		}
		for _, k := range ks {
			if strings.Contains(k, id) {
				t.Errorf("key %q contains the session id", k)
			}
			v, err := c.rdb.Get(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(v, id) {
				t.Errorf("value of %q contains the session id", k)
			}
		}
		if !strings.HasPrefix(ks[0], c.prefix+sessionPrefix) || len(ks[0]) != len(c.prefix+sessionPrefix)+64 {
			t.Errorf("key %q, want prefix + %q + 64 hex digits", ks[0], sessionPrefix)
		}
	})

	t.Run("shared across clients on one prefix", func(t *testing.T) {
		t.Parallel()
		first := newTestClient(t)
		other := otherClient(t, first)
		a, b := NewSessionStore(first), NewSessionStore(other)
		ctx := t.Context()
		if err := a.Create(ctx, id, sess, now); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(ctx, id, now); err != nil {
			t.Errorf("Get on the other client = %v, want the session", err)
		}
		// Another prefix sees nothing.
		elsewhere := NewSessionStore(newTestClient(t))
		if _, err := elsewhere.Get(ctx, id, now); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("Get under another prefix = %v, want ErrSessionNotFound", err)
		}
		if err := b.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Get(ctx, id, now); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("Get after Delete on the other client = %v, want ErrSessionNotFound", err)
		}
	})
}
