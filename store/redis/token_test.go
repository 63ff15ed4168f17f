package redis

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wxkit/wxkit/internal/testenv"
	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/token/tokentest"
)

// newTestClient connects to the test Redis (internal/testenv) with a key
// prefix unique to t, and deletes that prefix's keys when t ends. It skips
// t when Redis is unreachable, unless CI=true. opts apply after the prefix.
func newTestClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	c, err := Open(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("Open(test Redis) = %v", err)
	}
	prefix := "wxkit-test:" + token.NewHolderID()[:16] + ":"
	c = New(c.Redis(), append([]Option{WithKeyPrefix(prefix)}, opts...)...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := c.rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.rdb.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c
}

// otherClient opens a connection pool of its own to the test Redis with
// the key prefix of c, as another process sharing c's keys would.
func otherClient(t *testing.T, c *Client) *Client {
	t.Helper()
	o, err := Open(testenv.RedisURL(t), WithKeyPrefix(c.prefix))
	if err != nil {
		t.Fatalf("Open(test Redis) = %v", err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func TestTokenStore(t *testing.T) {
	t.Parallel()
	tokentest.TestStore(t, func(t *testing.T) token.Store { return NewTokenStore(newTestClient(t)) })
}

func TestTokenStoreShared(t *testing.T) {
	t.Parallel()
	tokentest.TestSharedStore(t, func(t *testing.T, n int) []token.Store {
		first := newTestClient(t)
		out := []token.Store{NewTokenStore(first)}
		for len(out) < n {
			// A separate connection pool on the same prefix: another process.
			out = append(out, NewTokenStore(otherClient(t, first)))
		}
		return out
	})
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestRedisDown checks that a Redis that is down gives a clear error by
// itself, well before the caller's deadline, instead of a hang.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	addr := closedAddr(t)
	if _, err := Open("redis://" + addr + "/0"); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("Open(closed port) = %v, want an error naming %s", err, addr)
	}
	if _, err := Open("redis://:hunter2secret@" + addr + "/0"); err == nil || strings.Contains(err.Error(), "hunter2secret") {
		t.Errorf("Open(closed port with password) = %v, want an error without the password", err)
	}

	c := New(goredis.NewClient(&goredis.Options{Addr: addr, DialTimeout: DialTimeout, MaxRetries: 1, DialerRetries: 2}))
	defer c.Close()
	s := NewTokenStore(c)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	ops := []struct {
		name string
		do   func() error
	}{
		{"Get", func() error { _, err := s.Get(ctx, "k"); return err }},
		{"Set", func() error { return s.Set(ctx, "k", &token.Token{Value: "v", Expiry: time.Now().Add(time.Hour)}) }},
		{"Lock", func() error { _, err := s.Lock(ctx, "k", time.Second); return err }},
		{"Ping", func() error { return c.Ping(ctx) }},
		{"TakeState", func() error { _, err := c.TakeState(ctx, "n", time.Now()); return err }},
	}
	for _, op := range ops {
		err := op.do()
		if err == nil || errors.Is(err, token.ErrNotFound) || errors.Is(err, token.ErrLocked) {
			t.Fatalf("%s with Redis down = %v, want a connection error", op.name, err)
		}
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			t.Fatalf("%s with Redis down ran into the caller's 30 s deadline: %v", op.name, err)
		}
		if !strings.Contains(err.Error(), "redis") || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s with Redis down = %q, want an error saying redis and connection refused", op.name, err)
		}
	}

	// A caller's short deadline is respected even against an address that
	// swallows packets: here, the deadline is already past.
	dctx, dcancel := context.WithTimeout(t.Context(), time.Nanosecond)
	defer dcancel()
	<-dctx.Done()
	if _, err := s.Get(dctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get with an expired ctx = %v, want context.DeadlineExceeded", err)
	}
}
