package tokentest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxkit/wxkit/token"
)

// TestSharedStore checks that n Store handles returned by newStores share one
// backing store the way separate processes would (two *DB on one SQLite file,
// two Redis clients), then runs TestCachedSourceAcrossProcesses over them.
// newStores must return n >= 2 handles and register its own cleanup.
func TestSharedStore(t *testing.T, newStores func(t *testing.T, n int) []token.Store) {
	t.Helper()
	t.Run("SeeEachOther", func(t *testing.T) {
		s := newStores(t, 2)
		key := uniqueKey("shared")
		want := &token.Token{Value: "shared-value", Expiry: time.Now().Add(time.Hour)}
		mustSet(t, s[0], key, want)
		got, err := s[1].Get(t.Context(), key)
		if err != nil {
			t.Fatalf("Get on the other handle = %v", err)
		}
		if err := sameToken(got, want); err != nil {
			t.Fatal(err)
		}
		if err := s[1].Delete(t.Context(), key); err != nil {
			t.Fatalf("Delete = %v", err)
		}
		if _, err := s[0].Get(t.Context(), key); !errors.Is(err, token.ErrNotFound) {
			t.Fatalf("Get after the other handle's Delete = %v, want ErrNotFound", err)
		}
	})
	t.Run("LockAcrossHandles", func(t *testing.T) {
		s := newStores(t, 2)
		key := uniqueKey("xlock")
		unlock := mustLock(t, s[0], key, time.Minute)
		wantLocked(t, s[1], key)
		// A stale holder on one handle cannot release the other's lease.
		if err := unlock(t.Context()); err != nil {
			t.Fatalf("unlock = %v", err)
		}
		u1 := mustLock(t, s[1], key, time.Minute)
		wantLocked(t, s[0], key)
		_ = u1(t.Context())
	})
	t.Run("CachedSourceAcrossProcesses", func(t *testing.T) {
		TestCachedSourceAcrossProcesses(t, newStores(t, 4))
	})
}

// TestCachedSourceAcrossProcesses builds one CachedSource per store handle
// (each standing for a process) over a shared upstream that counts fetches,
// and checks that 100 goroutines spread over them make exactly one fetch; that
// a proactive refresh near expiry makes exactly one more; and that after the
// token has expired exactly one more again. The CachedSources run on a fake
// clock; the stores on real time (their tokens expire two hours from now).
func TestCachedSourceAcrossProcesses(t *testing.T, stores []token.Store) {
	t.Helper()
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }

	var fetches atomic.Int32
	upstream := token.SourceFunc(func(ctx context.Context) (*token.Token, error) {
		n := fetches.Add(1)
		return &token.Token{Value: fmt.Sprintf("upstream-%d", n), Expiry: now().Add(2 * time.Hour)}, nil
	})
	key := uniqueKey("procs")
	srcs := make([]*token.CachedSource, len(stores))
	for i, s := range stores {
		srcs[i] = token.NewCachedSource(s, key, upstream,
			token.WithClock(now), token.WithPollInterval(5*time.Millisecond), token.WithLocalTTL(0))
	}
	burst := func(phase string) map[string]int {
		t.Helper()
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for i := range 100 {
			wg.Go(func() {
				tok, err := srcs[i%len(srcs)].Token(t.Context())
				if err != nil {
					t.Errorf("%s: Token = %v", phase, err)
					return
				}
				if !tok.Valid() {
					t.Errorf("%s: Token = %v, not valid", phase, tok)
				}
				mu.Lock()
				seen[tok.Value]++
				mu.Unlock()
			})
		}
		wg.Wait()
		return seen
	}

	seen := burst("first")
	if got := fetches.Load(); got != 1 {
		t.Fatalf("first burst of 100 callers over %d sources: %d fetches, want 1 (tokens seen %v)", len(srcs), got, seen)
	}
	if len(seen) != 1 || seen["upstream-1"] != 100 {
		t.Fatalf("first burst saw %v, want upstream-1 x100", seen)
	}

	// Within the expiry delta: one proactive refresh.
	clock.Add(int64(2*time.Hour - time.Minute))
	burst("proactive")
	if got := fetches.Load(); got != 2 {
		t.Fatalf("after entering the expiry delta: %d fetches, want 2", got)
	}
	seen = burst("after proactive")
	if len(seen) != 1 || seen["upstream-2"] != 100 {
		t.Fatalf("after the proactive refresh callers saw %v, want upstream-2 x100", seen)
	}

	// Past the expiry: exactly one more fetch, and nobody gets the old token.
	clock.Add(int64(3 * time.Hour))
	seen = burst("expired")
	if got := fetches.Load(); got != 3 {
		t.Fatalf("after expiry: %d fetches, want 3", got)
	}
	if len(seen) != 1 || seen["upstream-3"] != 100 {
		t.Fatalf("after expiry callers saw %v, want upstream-3 x100", seen)
	}
}
