package webhooktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/webhook"
)

// TestDedupStore runs the conformance suite for a webhook.DedupStore. newStore
// returns the store under test; it is called once per subtest and may return
// the same backing store each time, since every subtest uses fresh random
// keys. Stores backed by a shared service pass here only if claims are
// atomic across connections. Two subtests wait for real expiry of
// sub-second TTLs (polling, with a generous bound).
//
// Use it like testing/slogtest:
//
//	func TestDedup(t *testing.T) {
//		webhooktest.TestDedupStore(t, func(t *testing.T) webhook.DedupStore { return newStore(t) })
//	}
func TestDedupStore(t *testing.T, newStore func(t *testing.T) webhook.DedupStore) {
	t.Helper()
	const lease = time.Minute
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s webhook.DedupStore, key string)
	}{
		{"FirstClaimOwns", func(t *testing.T, s webhook.DedupStore, key string) {
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
		}},
		{"SecondClaimPending", func(t *testing.T, s webhook.DedupStore, key string) {
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
			wantState(t, claim(t, s, key, lease), webhook.ClaimPending)
			wantState(t, claim(t, s, key, lease), webhook.ClaimPending)
		}},
		{"CompleteStoresReply", func(t *testing.T, s webhook.DedupStore, key string) {
			reply := []byte("<xml><Content><![CDATA[你好 \x00\xff]]></Content></xml>")
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
			complete(t, s, key, reply, lease)
			reply[0] = 'X' // the store must have copied it
			c := claim(t, s, key, lease)
			wantState(t, c, webhook.ClaimDone)
			if want := "<xml><Content><![CDATA[你好 \x00\xff]]></Content></xml>"; string(c.Reply) != want {
				t.Errorf("Reply = %q, want %q", c.Reply, want)
			}
			c = claim(t, s, key, lease)
			wantState(t, c, webhook.ClaimDone)
		}},
		{"CompleteEmptyReply", func(t *testing.T, s webhook.DedupStore, key string) {
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
			complete(t, s, key, nil, lease)
			c := claim(t, s, key, lease)
			wantState(t, c, webhook.ClaimDone)
			if len(c.Reply) != 0 {
				t.Errorf("Reply = %q, want empty", c.Reply)
			}
		}},
		{"LargeReply", func(t *testing.T, s webhook.DedupStore, key string) {
			reply := make([]byte, 256<<10)
			rand.Read(reply)
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
			complete(t, s, key, reply, lease)
			c := claim(t, s, key, lease)
			wantState(t, c, webhook.ClaimDone)
			if !bytes.Equal(c.Reply, reply) {
				t.Errorf("Reply of %d bytes differs from the %d bytes completed", len(c.Reply), len(reply))
			}
		}},
		{"CompleteWithoutClaim", func(t *testing.T, s webhook.DedupStore, key string) {
			complete(t, s, key, []byte("r"), lease)
			c := claim(t, s, key, lease)
			wantState(t, c, webhook.ClaimDone)
			if string(c.Reply) != "r" {
				t.Errorf("Reply = %q, want %q", c.Reply, "r")
			}
		}},
		{"ReleaseFreesPendingKey", func(t *testing.T, s webhook.DedupStore, key string) {
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
			release(t, s, key)
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
			wantState(t, claim(t, s, key, lease), webhook.ClaimPending)
		}},
		{"ReleaseKeepsDoneKey", func(t *testing.T, s webhook.DedupStore, key string) {
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
			complete(t, s, key, []byte("r"), lease)
			release(t, s, key)
			wantState(t, claim(t, s, key, lease), webhook.ClaimDone)
		}},
		{"ReleaseAbsentKey", func(t *testing.T, s webhook.DedupStore, key string) {
			release(t, s, key)
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
		}},
		{"KeysAreIndependent", func(t *testing.T, s webhook.DedupStore, key string) {
			k2 := key + ":other"
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
			wantState(t, claim(t, s, k2, lease), webhook.ClaimOwned)
			complete(t, s, key, []byte("one"), lease)
			wantState(t, claim(t, s, k2, lease), webhook.ClaimPending)
			release(t, s, k2)
			wantState(t, claim(t, s, key, lease), webhook.ClaimDone)
		}},
		{"ConcurrentClaimsOneOwner", func(t *testing.T, s webhook.DedupStore, key string) {
			const n = 16
			var wg sync.WaitGroup
			states := make([]webhook.ClaimState, n)
			errs := make([]error, n)
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					c, err := s.Claim(t.Context(), key, lease)
					states[i], errs[i] = c.State, err
				})
			}
			close(start)
			wg.Wait()
			owners := 0
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("concurrent Claim: %v", errs[i])
				}
				switch states[i] {
				case webhook.ClaimOwned:
					owners++
				case webhook.ClaimPending:
				default:
					t.Errorf("concurrent Claim %d: state %v", i, states[i])
				}
			}
			if owners != 1 {
				t.Errorf("%d of %d concurrent Claims own the key, want exactly 1", owners, n)
			}
		}},
		{"CanceledContext", func(t *testing.T, s webhook.DedupStore, key string) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if _, err := s.Claim(ctx, key, lease); err == nil {
				t.Errorf("Claim with a canceled context: no error")
			}
			if err := s.Complete(ctx, key, []byte("r"), lease); err == nil {
				t.Errorf("Complete with a canceled context: no error")
			}
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
		}},
		{"LeaseExpires", func(t *testing.T, s webhook.DedupStore, key string) {
			wantState(t, claim(t, s, key, 200*time.Millisecond), webhook.ClaimOwned)
			wantState(t, claim(t, s, key, lease), webhook.ClaimPending)
			eventuallyOwned(t, s, key)
		}},
		{"DoneExpires", func(t *testing.T, s webhook.DedupStore, key string) {
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
			complete(t, s, key, []byte("r"), 200*time.Millisecond)
			wantState(t, claim(t, s, key, lease), webhook.ClaimDone)
			eventuallyOwned(t, s, key)
		}},
		{"WaiterWakesOnComplete", func(t *testing.T, s webhook.DedupStore, key string) {
			w, ok := s.(webhook.DedupWaiter)
			if !ok {
				t.Skip("store does not implement DedupWaiter")
			}
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
			got := make(chan webhook.Claim, 1)
			go func() {
				c, err := w.Wait(t.Context(), key, lease)
				if err != nil {
					t.Errorf("Wait: %v", err)
				}
				got <- c
			}()
			complete(t, s, key, []byte("late"), lease)
			c := <-got
			wantState(t, c, webhook.ClaimDone)
			if string(c.Reply) != "late" {
				t.Errorf("Wait Reply = %q, want %q", c.Reply, "late")
			}
		}},
		{"WaiterTakesOverReleasedKey", func(t *testing.T, s webhook.DedupStore, key string) {
			w, ok := s.(webhook.DedupWaiter)
			if !ok {
				t.Skip("store does not implement DedupWaiter")
			}
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
			got := make(chan webhook.Claim, 1)
			go func() {
				c, err := w.Wait(t.Context(), key, lease)
				if err != nil {
					t.Errorf("Wait: %v", err)
				}
				got <- c
			}()
			release(t, s, key)
			wantState(t, <-got, webhook.ClaimOwned)
			wantState(t, claim(t, s, key, lease), webhook.ClaimPending)
		}},
		{"WaiterHonoursContext", func(t *testing.T, s webhook.DedupStore, key string) {
			w, ok := s.(webhook.DedupWaiter)
			if !ok {
				t.Skip("store does not implement DedupWaiter")
			}
			wantState(t, claim(t, s, key, lease), webhook.ClaimOwned)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if _, err := w.Wait(ctx, key, lease); err == nil {
				t.Errorf("Wait with a canceled context: no error")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			tc.run(t, s, uniqueKey(t))
		})
	}
}

func uniqueKey(t *testing.T) string {
	var b [8]byte
	rand.Read(b[:])
	return "wxkit-dedup-test:" + t.Name() + ":" + hex.EncodeToString(b[:])
}

func claim(t *testing.T, s webhook.DedupStore, key string, ttl time.Duration) webhook.Claim {
	t.Helper()
	c, err := s.Claim(t.Context(), key, ttl)
	if err != nil {
		t.Fatalf("Claim(%q): %v", key, err)
	}
	return c
}

func complete(t *testing.T, s webhook.DedupStore, key string, reply []byte, ttl time.Duration) {
	t.Helper()
	if err := s.Complete(t.Context(), key, reply, ttl); err != nil {
		t.Fatalf("Complete(%q): %v", key, err)
	}
}

func release(t *testing.T, s webhook.DedupStore, key string) {
	t.Helper()
	if err := s.Release(t.Context(), key); err != nil {
		t.Fatalf("Release(%q): %v", key, err)
	}
}

func wantState(t *testing.T, c webhook.Claim, want webhook.ClaimState) {
	t.Helper()
	if c.State != want {
		t.Fatalf("Claim state = %v, want %v", c.State, want)
	}
}

// eventuallyOwned polls Claim until the key's TTL has run out and the
// claim is owned again, failing after 10 s.
func eventuallyOwned(t *testing.T, s webhook.DedupStore, key string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := claim(t, s, key, time.Minute)
		if c.State == webhook.ClaimOwned {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("key still %v 10 s after its 200 ms TTL", c.State)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
