package redis

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/store"
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

// TestStoredLayout pins the keys and values of sessions and OAuth states,
// which deployments already hold in Redis: what CreateSession and PutState
// write, byte for byte, and that entries as earlier releases wrote them
// are read.
func TestStoredLayout(t *testing.T) {
	t.Parallel()
	t0 := time.UnixMilli(1_780_000_000_000).UTC() // 2026-05-28T20:26:40Z

	writes := []struct {
		name      string
		write     func(t *testing.T, c *Client) error
		wantKey   string // after the client's prefix
		wantValue string
	}{
		{
			name: "session with its user",
			write: func(t *testing.T, c *Client) error {
				return c.CreateSession(t.Context(), "session-id-1", &store.Session{AppID: "wxapp", OpenID: "o1",
					Created: t0, Expires: t0.Add(time.Hour),
					User: &store.User{AppID: "wxapp", OpenID: "o1", Nickname: "张三", FirstSeen: t0, LastSeen: t0}})
			},
			// sha256sum of "session-id-1".
			wantKey: "wxkit:session:14cfca0a6d955280ebdc3d1f762426a26b39b698cf005ff977319b22d95120b8",
			wantValue: `{"appid":"wxapp","openid":"o1","created":"2026-05-28T20:26:40Z","expires":"2026-05-28T21:26:40Z",` +
				`"user":{"appid":"wxapp","openid":"o1","nickname":"张三","sex":0,` +
				`"first_seen":"2026-05-28T20:26:40Z","last_seen":"2026-05-28T20:26:40Z"}}`,
		},
		{
			name: "session without a user",
			write: func(t *testing.T, c *Client) error {
				return c.CreateSession(t.Context(), "session-id-1", &store.Session{AppID: "wxapp", OpenID: "o1",
					Created: t0, Expires: t0.Add(time.Hour)})
			},
			wantKey:   "wxkit:session:14cfca0a6d955280ebdc3d1f762426a26b39b698cf005ff977319b22d95120b8",
			wantValue: `{"appid":"wxapp","openid":"o1","created":"2026-05-28T20:26:40Z","expires":"2026-05-28T21:26:40Z"}`,
		},
		{
			name: "OAuth state: expiry in Unix ms, then the data",
			write: func(t *testing.T, c *Client) error {
				return c.PutState(t.Context(), "nonce-1", "https://h:8443/back?x=1", t0.Add(10*time.Minute))
			},
			wantKey:   "wxkit:oauthstate:nonce-1",
			wantValue: "1780000600000:https://h:8443/back?x=1",
		},
	}
	for _, tt := range writes {
		t.Run("write/"+tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t)
			if err := tt.write(t, c); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]string{c.prefix + tt.wantKey}, keys(t, c)); d != "" {
				t.Fatalf("keys mismatch (-want +got):\n%s", d)
			}
			v, err := c.rdb.Get(t.Context(), c.prefix+tt.wantKey).Result()
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.wantValue, v); d != "" {
				t.Errorf("value mismatch (-want +got):\n%s", d)
			}
		})
	}

	// Entries as an earlier release wrote them: times in the writer's zone
	// with milliseconds, the user as the JSON of store.User.
	reads := []struct {
		name  string
		key   string // after the client's prefix
		value string
		read  func(t *testing.T, c *Client) (any, error)
		want  any
	}{
		{
			name: "session",
			key:  "wxkit:session:14cfca0a6d955280ebdc3d1f762426a26b39b698cf005ff977319b22d95120b8",
			value: `{"appid":"wxapp","openid":"o1","created":"2026-05-29T04:26:40.123+08:00","expires":"2026-05-29T05:26:40.123+08:00",` +
				`"user":{"appid":"wxapp","openid":"o1","unionid":"u1","nickname":"张三","sex":1,` +
				`"first_seen":"2026-05-29T04:26:40.123+08:00","last_seen":"2026-05-29T04:26:40.123+08:00"}}`,
			read: func(t *testing.T, c *Client) (any, error) {
				return c.Session(t.Context(), "session-id-1", t0)
			},
			want: &store.Session{AppID: "wxapp", OpenID: "o1", Created: t0.Add(123 * time.Millisecond),
				Expires: t0.Add(time.Hour + 123*time.Millisecond),
				User: &store.User{AppID: "wxapp", OpenID: "o1", UnionID: "u1", Nickname: "张三", Sex: 1,
					FirstSeen: t0.Add(123 * time.Millisecond), LastSeen: t0.Add(123 * time.Millisecond)}},
		},
		{
			name:  "OAuth state",
			key:   "wxkit:oauthstate:nonce-2",
			value: "1780000600000:https://h:8443/p",
			read: func(t *testing.T, c *Client) (any, error) {
				return c.TakeState(t.Context(), "nonce-2", t0)
			},
			want: "https://h:8443/p",
		},
	}
	for _, tt := range reads {
		t.Run("read/"+tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t)
			if err := c.rdb.Set(t.Context(), c.prefix+tt.key, tt.value, time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			got, err := tt.read(t, c)
			if err != nil {
				t.Fatalf("read = %v", err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("read mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// TestSharedByPrefix checks that clients with one key prefix, as processes
// sharing a Redis, see each other's sessions and states, and that another
// prefix sees none of them.
func TestSharedByPrefix(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(1_780_000_000_000)
	first := newTestClient(t)
	other := otherClient(t, first)
	elsewhere := newTestClient(t)
	ctx := t.Context()

	sess := &store.Session{AppID: "wxapp", OpenID: "o1", Created: now, Expires: now.Add(time.Hour)}
	if err := first.CreateSession(ctx, "sid", sess); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Session(ctx, "sid", now); err != nil {
		t.Errorf("Session on the other client = %v, want the session", err)
	}
	if _, err := elsewhere.Session(ctx, "sid", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Session under another prefix = %v, want store.ErrNotFound", err)
	}
	if err := other.DeleteSession(ctx, "sid"); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Session(ctx, "sid", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Session after DeleteSession on the other client = %v, want store.ErrNotFound", err)
	}

	if err := first.PutState(ctx, "nonce", "/r", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := elsewhere.TakeState(ctx, "nonce", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TakeState under another prefix = %v, want store.ErrNotFound", err)
	}
	// Concurrent takes through both clients: exactly one wins.
	clients := []*Client{first, other}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			data, err := clients[i%2].TakeState(ctx, "nonce", now)
			switch {
			case err == nil && data == "/r":
				wins.Add(1)
			case err != nil && !errors.Is(err, store.ErrNotFound):
				t.Errorf("TakeState = %v", err)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("%d of 16 concurrent takes across clients won, want 1", n)
	}
}

// TestEmptyNonce checks that an empty nonce is neither stored nor taken.
func TestEmptyNonce(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	now := time.UnixMilli(1_780_000_000_000)
	if err := c.PutState(t.Context(), "", "/x", now.Add(time.Minute)); err == nil {
		t.Error("PutState(empty nonce) = nil, want an error")
	}
	if ks := keys(t, c); len(ks) != 0 {
		t.Errorf("keys after PutState(empty nonce) = %v, want none", ks)
	}
	if _, err := c.TakeState(t.Context(), "", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TakeState(empty nonce) = %v, want store.ErrNotFound", err)
	}
}
