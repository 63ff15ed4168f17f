package postgres

import (
	"fmt"
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

// TestDedupGrouped has 64 pushes claim and complete keys of their own at
// once on one DB, so that their statements are grouped: each caller gets
// its own key's answer, then its own reply.
func TestDedupGrouped(t *testing.T) {
	t.Parallel()
	d := newMigrated(t).Dedup()
	ctx := t.Context()
	if err := d.Complete(ctx, "msg:7", []byte("<xml>early</xml>"), time.Hour); err != nil {
		t.Fatal(err)
	}
	const n = 64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			key := fmt.Sprint("msg:", i)
			want := webhook.ClaimOwned
			if i == 7 {
				want = webhook.ClaimDone
			}
			if c, err := d.Claim(ctx, key, time.Minute); err != nil || c.State != want {
				t.Errorf("Claim(%s) = %v, %v; want %v", key, c.State, err, want)
				return
			}
			again := webhook.ClaimPending
			if i == 7 {
				again = webhook.ClaimDone
			}
			if c, err := d.Claim(ctx, key, time.Minute); err != nil || c.State != again {
				t.Errorf("second Claim(%s) = %v, %v; want %v", key, c.State, err, again)
				return
			}
			if i == 7 {
				return
			}
			reply := fmt.Sprintf("<xml>%d</xml>", i)
			if err := d.Complete(ctx, key, []byte(reply), time.Hour); err != nil {
				t.Errorf("Complete(%s) = %v", key, err)
				return
			}
			c, err := d.Claim(ctx, key, time.Minute)
			if err != nil || c.State != webhook.ClaimDone || string(c.Reply) != reply {
				t.Errorf("Claim(%s) after Complete = %v %q, %v; want done %q", key, c.State, c.Reply, err, reply)
			}
		})
	}
	close(start)
	wg.Wait()
	if c, err := d.Claim(ctx, "msg:7", time.Minute); err != nil || string(c.Reply) != "<xml>early</xml>" {
		t.Errorf("Claim(msg:7) = %v %q, %v; want the first reply", c.State, c.Reply, err)
	}
}

// TestDedupClosed: the dedup store of a closed DB fails, and does not
// hang.
func TestDedupClosed(t *testing.T) {
	t.Parallel()
	db := newMigrated(t)
	d := db.Dedup()
	if _, err := d.Claim(t.Context(), "msg:1", time.Minute); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := d.Claim(t.Context(), "msg:2", time.Minute); err == nil {
		t.Error("Claim() on a closed DB = nil error")
	}
	if err := d.Complete(t.Context(), "msg:1", nil, time.Minute); err == nil {
		t.Error("Complete() on a closed DB = nil error")
	}
}

// TestDedupClaimStatement runs one grouped claim statement over keys in
// every state (free, expired, pending, done) and one grouped complete:
// each call gets its own key's answer.
func TestDedupClaimStatement(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	db := newMigrated(t, WithClock(clock.Now))
	d := db.Dedup()
	ctx := t.Context()
	for _, key := range []string{"pending", "expired"} {
		if c, err := d.Claim(ctx, key, time.Minute); err != nil || c.State != webhook.ClaimOwned {
			t.Fatalf("Claim(%s) = %v, %v", key, c.State, err)
		}
	}
	if err := d.Complete(ctx, "done", []byte("<xml>done</xml>"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := d.Complete(ctx, "done-expired", []byte("<xml>old</xml>"), time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute)
	if c, err := d.Claim(ctx, "pending", 2*time.Minute); err != nil || c.State != webhook.ClaimOwned {
		t.Fatalf("Claim(pending) = %v, %v", c.State, err)
	}

	want := map[string]webhook.Claim{
		"free":         {State: webhook.ClaimOwned},
		"expired":      {State: webhook.ClaimOwned},
		"done-expired": {State: webhook.ClaimOwned},
		"pending":      {State: webhook.ClaimPending},
		"done":         {State: webhook.ClaimDone, Reply: []byte("<xml>done</xml>")},
	}
	var calls []*groupCall[dedupReq, claimResult]
	for _, key := range []string{"pending", "free", "done", "expired", "done-expired"} {
		calls = append(calls, &groupCall[dedupReq, claimResult]{ctx: ctx, req: dedupReq{key: key, ttl: time.Minute}})
	}
	db.runClaims(ctx, calls)
	for _, c := range calls {
		w := want[c.req.key]
		if c.err != nil || c.res.gone || c.res.claim.State != w.State || string(c.res.claim.Reply) != string(w.Reply) {
			t.Errorf("grouped claim of %s = %+v, %v; want %v %q", c.req.key, c.res, c.err, w.State, w.Reply)
		}
	}

	var completes []*groupCall[dedupReq, struct{}]
	for _, key := range []string{"free", "pending", "expired"} {
		completes = append(completes, &groupCall[dedupReq, struct{}]{ctx: ctx, req: dedupReq{key: key, ttl: time.Hour, reply: []byte("<xml>" + key + "</xml>")}})
	}
	db.runCompletes(ctx, completes)
	for _, c := range completes {
		if c.err != nil {
			t.Fatalf("grouped complete of %s = %v", c.req.key, c.err)
		}
		got, err := d.Claim(ctx, c.req.key, time.Minute)
		if err != nil || got.State != webhook.ClaimDone || string(got.Reply) != string(c.req.reply) {
			t.Errorf("Claim(%s) after a grouped complete = %v %q, %v; want done %q", c.req.key, got.State, got.Reply, err, c.req.reply)
		}
	}
}
