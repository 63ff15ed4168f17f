package postgres

import (
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/webhook"
)

// TestDedupClock moves the DB's clock through a pending lease and a done
// record's lifetime.
func TestDedupClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	d := newMigrated(t, WithClock(clock.Now)).Dedup()
	ctx := t.Context()
	claim := func(want webhook.ClaimState) webhook.Claim {
		t.Helper()
		c, err := d.Claim(ctx, "msg:1", time.Minute)
		if err != nil {
			t.Fatalf("Claim() = %v", err)
		}
		if c.State != want {
			t.Fatalf("Claim() at %v = %v, want %v", clock.Now(), c.State, want)
		}
		return c
	}
	claim(webhook.ClaimOwned)
	clock.Add(time.Minute - time.Millisecond)
	claim(webhook.ClaimPending)
	clock.Add(time.Millisecond) // the holder died: its lease has ended
	claim(webhook.ClaimOwned)
	if err := d.Complete(ctx, "msg:1", []byte("<xml/>"), 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Add(10*time.Minute - time.Millisecond)
	if c := claim(webhook.ClaimDone); string(c.Reply) != "<xml/>" {
		t.Errorf("Reply = %q, want %q", c.Reply, "<xml/>")
	}
	clock.Add(time.Millisecond)
	claim(webhook.ClaimOwned)
}

// TestDedupClaimAcrossInstances has 30 deliveries of one message reach
// three instances at once: exactly one owns it.
func TestDedupClaimAcrossInstances(t *testing.T) {
	t.Parallel()
	dbs := newShared(t, 3)
	const n = 30
	states := make([]webhook.ClaimState, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			c, err := dbs[i%len(dbs)].Dedup().Claim(t.Context(), "msg:42", time.Minute)
			if err != nil {
				t.Errorf("Claim() = %v", err)
			}
			states[i] = c.State
		})
	}
	close(start)
	wg.Wait()
	owners := 0
	for _, s := range states {
		if s == webhook.ClaimOwned {
			owners++
		} else if s != webhook.ClaimPending {
			t.Errorf("Claim() state %v, want owned or pending", s)
		}
	}
	if owners != 1 {
		t.Errorf("%d of %d concurrent claims on 3 instances own the key, want 1", owners, n)
	}
}
