// Package tokentest is a conformance suite for token.Store implementations,
// in the manner of testing/slogtest: call TestStore from a test of your
// store, and TestSharedStore when several handles can share one backing
// store (the way several processes share one Redis or one SQLite file).
//
// The suite uses keys with a random prefix, so it can run against a shared
// server in parallel with other tests. It uses real time for expiry and
// leases (stores cannot be given a fake clock) but never asserts on timing:
// it waits, with a deadline, for a lease or a token to expire.
package tokentest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxkit/wxkit/token"
)

// waitLimit bounds every wait for an expiry or a lease to end.
const waitLimit = 10 * time.Second

// uniqueKey returns a key no other test uses.
func uniqueKey(name string) string {
	return "tokentest:" + token.NewHolderID()[:12] + ":" + name
}

// TestStore runs the conformance suite against the Store newStore returns;
// newStore is called once per subtest and must register its own cleanup.
func TestStore(t *testing.T, newStore func(t *testing.T) token.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s token.Store)
	}{
		{"GetMissing", testGetMissing},
		{"SetGet", testSetGet},
		{"Overwrite", testOverwrite},
		{"KeysIndependent", testKeysIndependent},
		{"Delete", testDelete},
		{"ZeroExpiry", testZeroExpiry},
		{"SetExpired", testSetExpired},
		{"ExpiryRespected", testExpiryRespected},
		{"LockExclusive", testLockExclusive},
		{"LockSeparateFromToken", testLockSeparateFromToken},
		{"LeaseExpiry", testLeaseExpiry},
		{"StaleUnlock", testStaleUnlock},
		{"DeleteValue", testDeleteValue},
		{"ConcurrentLock", testConcurrentLock},
		{"ConcurrentSetGet", testConcurrentSetGet},
		{"CanceledContext", testCanceledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

func mustSet(t *testing.T, s token.Store, key string, tok *token.Token) {
	t.Helper()
	if err := s.Set(t.Context(), key, tok); err != nil {
		t.Fatalf("Set(%q, %v) = %v, want nil", key, tok, err)
	}
}

// sameToken compares Value exactly and Expiry to the millisecond (stores
// may keep milliseconds only).
func sameToken(got, want *token.Token) error {
	if got == nil {
		return errors.New("got nil token")
	}
	if got.Value != want.Value {
		return fmt.Errorf("Value = %q (len %d), want %q (len %d)", got.Value, len(got.Value), want.Value, len(want.Value))
	}
	if got.Expiry.IsZero() != want.Expiry.IsZero() {
		return fmt.Errorf("Expiry = %v, want %v", got.Expiry, want.Expiry)
	}
	if d := got.Expiry.Sub(want.Expiry); d > time.Millisecond || d < -time.Millisecond {
		return fmt.Errorf("Expiry = %v, want %v (±1ms)", got.Expiry, want.Expiry)
	}
	return nil
}

func testGetMissing(t *testing.T, s token.Store) {
	_, err := s.Get(t.Context(), uniqueKey("missing"))
	if !errors.Is(err, token.ErrNotFound) {
		t.Fatalf("Get(missing) error = %v, want ErrNotFound", err)
	}
}

func testSetGet(t *testing.T, s token.Store) {
	// access_token storage must allow at least 512 characters.
	want := &token.Token{Value: strings.Repeat("A1b2_-", 100) + "令牌", Expiry: time.Now().Add(2 * time.Hour)}
	key := uniqueKey("setget")
	mustSet(t, s, key, want)
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get after Set = %v, want nil", err)
	}
	if err := sameToken(got, want); err != nil {
		t.Fatalf("Get after Set: %v", err)
	}
}

func testOverwrite(t *testing.T, s token.Store) {
	key := uniqueKey("overwrite")
	mustSet(t, s, key, &token.Token{Value: "first", Expiry: time.Now().Add(time.Hour)})
	want := &token.Token{Value: "second", Expiry: time.Now().Add(2 * time.Hour)}
	mustSet(t, s, key, want)
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get = %v", err)
	}
	if err := sameToken(got, want); err != nil {
		t.Fatalf("Get after overwrite: %v", err)
	}
}

func testKeysIndependent(t *testing.T, s token.Store) {
	a, b := uniqueKey("a"), uniqueKey("b")
	ta := &token.Token{Value: "value-a", Expiry: time.Now().Add(time.Hour)}
	tb := &token.Token{Value: "value-b", Expiry: time.Now().Add(time.Hour)}
	mustSet(t, s, a, ta)
	mustSet(t, s, b, tb)
	if err := s.Delete(t.Context(), a); err != nil {
		t.Fatalf("Delete(a) = %v", err)
	}
	got, err := s.Get(t.Context(), b)
	if err != nil {
		t.Fatalf("Get(b) after Delete(a) = %v, want nil", err)
	}
	if err := sameToken(got, tb); err != nil {
		t.Fatalf("Get(b): %v", err)
	}
}

func testDelete(t *testing.T, s token.Store) {
	key := uniqueKey("delete")
	mustSet(t, s, key, &token.Token{Value: "v", Expiry: time.Now().Add(time.Hour)})
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete = %v, want nil", err)
	}
	if _, err := s.Get(t.Context(), key); !errors.Is(err, token.ErrNotFound) {
		t.Fatalf("Get after Delete error = %v, want ErrNotFound", err)
	}
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete(absent) = %v, want nil", err)
	}
}

func testZeroExpiry(t *testing.T, s token.Store) {
	key := uniqueKey("zero")
	want := &token.Token{Value: "forever"}
	mustSet(t, s, key, want)
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get = %v", err)
	}
	if err := sameToken(got, want); err != nil {
		t.Fatalf("Get of a token without expiry: %v", err)
	}
}

func testSetExpired(t *testing.T, s token.Store) {
	key := uniqueKey("expired")
	mustSet(t, s, key, &token.Token{Value: "old", Expiry: time.Now().Add(time.Hour)})
	mustSet(t, s, key, &token.Token{Value: "gone", Expiry: time.Now().Add(-time.Second)})
	if _, err := s.Get(t.Context(), key); !errors.Is(err, token.ErrNotFound) {
		t.Fatalf("Get after Set(expired) error = %v, want ErrNotFound", err)
	}
}

func testExpiryRespected(t *testing.T, s token.Store) {
	key := uniqueKey("expiry")
	exp := time.Now().Add(300 * time.Millisecond)
	mustSet(t, s, key, &token.Token{Value: "short", Expiry: exp})
	_, err := s.Get(t.Context(), key)
	if err != nil && time.Now().Before(exp.Add(-50*time.Millisecond)) {
		t.Fatalf("Get before expiry = %v, want nil", err)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		_, err := s.Get(t.Context(), key)
		if errors.Is(err, token.ErrNotFound) {
			if time.Now().Before(exp.Add(-time.Millisecond)) { // stores may keep ms
				t.Fatalf("Get at %v = ErrNotFound before expiry %v", time.Now(), exp)
			}
			return
		}
		if err != nil {
			t.Fatalf("Get = %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("token still returned %v after its expiry", time.Since(exp))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustLock(t *testing.T, s token.Store, key string, ttl time.Duration) func(context.Context) error {
	t.Helper()
	unlock, err := s.Lock(t.Context(), key, ttl)
	if err != nil {
		t.Fatalf("Lock(%q, %v) = %v, want nil", key, ttl, err)
	}
	if unlock == nil {
		t.Fatalf("Lock(%q) returned a nil unlock", key)
	}
	return unlock
}

func wantLocked(t *testing.T, s token.Store, key string) {
	t.Helper()
	unlock, err := s.Lock(t.Context(), key, time.Minute)
	if !errors.Is(err, token.ErrLocked) {
		if err == nil {
			_ = unlock(t.Context())
		}
		t.Fatalf("Lock(%q) of a held key = %v, want ErrLocked", key, err)
	}
}

func testLockExclusive(t *testing.T, s token.Store) {
	key := uniqueKey("lock")
	unlock := mustLock(t, s, key, time.Minute)
	wantLocked(t, s, key)
	other := mustLock(t, s, uniqueKey("other"), time.Minute)
	if err := other(t.Context()); err != nil {
		t.Fatalf("unlock(other) = %v", err)
	}
	if err := unlock(t.Context()); err != nil {
		t.Fatalf("unlock = %v, want nil", err)
	}
	again := mustLock(t, s, key, time.Minute)
	if err := again(t.Context()); err != nil {
		t.Fatalf("unlock = %v", err)
	}
	// Unlocking twice is harmless.
	if err := unlock(t.Context()); err != nil {
		t.Fatalf("second unlock = %v, want nil", err)
	}
}

func testLockSeparateFromToken(t *testing.T, s token.Store) {
	key := uniqueKey("sep")
	want := &token.Token{Value: "v", Expiry: time.Now().Add(time.Hour)}
	mustSet(t, s, key, want)
	unlock := mustLock(t, s, key, time.Minute)
	defer unlock(context.WithoutCancel(t.Context()))
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get of a locked key = %v, want nil", err)
	}
	if err := sameToken(got, want); err != nil {
		t.Fatalf("Get of a locked key: %v", err)
	}
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	wantLocked(t, s, key)
}

// waitLock takes key once the current lease has ended.
func waitLock(t *testing.T, s token.Store, key string, ttl time.Duration) func(context.Context) error {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		unlock, err := s.Lock(t.Context(), key, ttl)
		if err == nil {
			return unlock
		}
		if !errors.Is(err, token.ErrLocked) {
			t.Fatalf("Lock = %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease on %q not released %v after its ttl", key, waitLimit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testLeaseExpiry(t *testing.T, s token.Store) {
	key := uniqueKey("lease")
	start := time.Now()
	mustLock(t, s, key, 300*time.Millisecond)
	unlock := waitLock(t, s, key, time.Minute)
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Fatalf("lease with ttl 300ms taken over after %v", el)
	}
	if err := unlock(t.Context()); err != nil {
		t.Fatalf("unlock = %v", err)
	}
}

func testStaleUnlock(t *testing.T, s token.Store) {
	key := uniqueKey("stale")
	staleUnlock := mustLock(t, s, key, 200*time.Millisecond)
	newUnlock := waitLock(t, s, key, time.Minute)
	// The first holder's lease has ended; its unlock must not release the
	// new holder's lease.
	if err := staleUnlock(t.Context()); err != nil {
		t.Logf("stale unlock = %v (an error is allowed)", err)
	}
	wantLocked(t, s, key)
	if err := newUnlock(t.Context()); err != nil {
		t.Fatalf("unlock by holder = %v", err)
	}
	final := mustLock(t, s, key, time.Minute)
	_ = final(t.Context())
}

func testDeleteValue(t *testing.T, s token.Store) {
	vd, ok := s.(token.ValueDeleter)
	if !ok {
		t.Skip("store does not implement token.ValueDeleter")
	}
	key := uniqueKey("delval")
	want := &token.Token{Value: "current", Expiry: time.Now().Add(time.Hour)}
	mustSet(t, s, key, want)
	deleted, err := vd.DeleteValue(t.Context(), key, "other")
	if err != nil || deleted {
		t.Fatalf("DeleteValue(other) = %v, %v, want false, nil", deleted, err)
	}
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get after DeleteValue(other) = %v, want nil", err)
	}
	if err := sameToken(got, want); err != nil {
		t.Fatal(err)
	}
	deleted, err = vd.DeleteValue(t.Context(), key, "current")
	if err != nil || !deleted {
		t.Fatalf("DeleteValue(current) = %v, %v, want true, nil", deleted, err)
	}
	if _, err := s.Get(t.Context(), key); !errors.Is(err, token.ErrNotFound) {
		t.Fatalf("Get after DeleteValue = %v, want ErrNotFound", err)
	}
	deleted, err = vd.DeleteValue(t.Context(), key, "current")
	if err != nil || deleted {
		t.Fatalf("DeleteValue(absent) = %v, %v, want false, nil", deleted, err)
	}
}

func testConcurrentLock(t *testing.T, s token.Store) {
	key := uniqueKey("conc")
	const n = 32
	var wins, locked atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := s.Lock(t.Context(), key, time.Minute)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, token.ErrLocked):
				locked.Add(1)
			default:
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Lock = %v", err)
	}
	if wins.Load() != 1 || locked.Load() != n-1 {
		t.Fatalf("%d concurrent Locks: %d won, %d ErrLocked; want 1, %d", n, wins.Load(), locked.Load(), n-1)
	}
}

func testConcurrentSetGet(t *testing.T, s token.Store) {
	prefix := uniqueKey("cset")
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			key := fmt.Sprintf("%s:%d", prefix, i%4)
			for j := range 10 {
				want := &token.Token{Value: fmt.Sprintf("v%d-%d", i, j), Expiry: time.Now().Add(time.Hour)}
				if err := s.Set(t.Context(), key, want); err != nil {
					t.Errorf("Set = %v", err)
					return
				}
				got, err := s.Get(t.Context(), key)
				if err != nil {
					t.Errorf("Get = %v", err)
					return
				}
				if !strings.HasPrefix(got.Value, "v") {
					t.Errorf("Get = %q, want a value some writer set", got.Value)
				}
			}
		})
	}
	wg.Wait()
}

func testCanceledContext(t *testing.T, s token.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	key := uniqueKey("cancel")
	if _, err := s.Get(ctx, key); err == nil || errors.Is(err, token.ErrNotFound) {
		t.Errorf("Get(canceled ctx) = %v, want a context error", err)
	}
	if _, err := s.Lock(ctx, key, time.Minute); err == nil || errors.Is(err, token.ErrLocked) {
		t.Errorf("Lock(canceled ctx) = %v, want a context error", err)
	}
}
