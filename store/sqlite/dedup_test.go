package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// newTestDedup opens the database file at path (":memory:" for a private
// in-memory one), migrates it and returns its dedup store.
func newTestDedup(t *testing.T, path string) *Dedup {
	t.Helper()
	db, err := Open("sqlite://" + path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db.Dedup().(*Dedup)
}

func TestDedupConformance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedup.db")
	d := newTestDedup(t, path)
	webhooktest.TestDedupStore(t, func(*testing.T) webhook.DedupStore { return d })
}

func TestDedupInMemory(t *testing.T) {
	d := newTestDedup(t, ":memory:")
	webhooktest.TestDedupStore(t, func(*testing.T) webhook.DedupStore { return d })
}

// TestDedupAcrossHandles opens the same file twice, as two processes would,
// and checks that a claim through one is seen through the other.
func TestDedupAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := newTestDedup(t, path), newTestDedup(t, path)
	ctx := t.Context()
	for _, step := range []struct {
		name string
		s    *Dedup
		do   func(*Dedup) (webhook.Claim, error)
		want webhook.ClaimState
	}{
		{"a claims", a, func(d *Dedup) (webhook.Claim, error) { return d.Claim(ctx, "k", time.Minute) }, webhook.ClaimOwned},
		{"b sees pending", b, func(d *Dedup) (webhook.Claim, error) { return d.Claim(ctx, "k", time.Minute) }, webhook.ClaimPending},
		{"a completes, b sees done", b, func(d *Dedup) (webhook.Claim, error) {
			if err := a.Complete(ctx, "k", []byte("reply"), time.Minute); err != nil {
				return webhook.Claim{}, err
			}
			return d.Claim(ctx, "k", time.Minute)
		}, webhook.ClaimDone},
	} {
		c, err := step.do(step.s)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if c.State != step.want {
			t.Fatalf("%s: state %v, want %v", step.name, c.State, step.want)
		}
	}
}

func TestDedupSweep(t *testing.T) {
	d := newTestDedup(t, filepath.Join(t.TempDir(), "sweep.db"))
	now := time.Unix(1_700_000_000, 0)
	d.now = func() time.Time { return now }
	ctx := t.Context()
	if _, err := d.Claim(ctx, "old", time.Second); err != nil {
		t.Fatal(err)
	}
	if err := d.Complete(ctx, "kept", nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	d.flush() // exclusive mode writes completed keys behind; the pending one is in memory only
	if err := d.spill(ctx); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	n, err := d.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("Sweep deleted %d rows, want 1", n)
	}
	c, err := d.Claim(ctx, "kept", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != webhook.ClaimDone {
		t.Errorf("kept: state %v, want done", c.State)
	}
}

// TestDedupPresence: a process alone on the file keeps claims in memory;
// when a second opens the file, the first writes its keys out and both
// share the table; when the second leaves, the first goes back to memory
// with what the second did; a restarted process finds the keys of the
// one before.
func TestDedupPresence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "presence.db")
	const iv = 200 * time.Millisecond
	open := func() (*DB, *Dedup) {
		db, err := Open("sqlite://"+path, WithPresenceInterval(iv))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return db, db.Dedup().(*Dedup)
	}
	ctx := t.Context()
	state := func(d *Dedup, key string) webhook.Claim {
		t.Helper()
		c, err := d.Claim(ctx, key, time.Minute)
		if err != nil {
			t.Fatalf("Claim(%s) = %v", key, err)
		}
		return c
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(iv / 4) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	db1, d1 := open()
	if c := state(d1, "done-by-1"); c.State != webhook.ClaimOwned || !d1.Exclusive() {
		t.Fatalf("first process alone: Claim = %v, exclusive %v; want owned in memory", c.State, d1.Exclusive())
	}
	if err := d1.Complete(ctx, "done-by-1", []byte("r1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if c := state(d1, "pending-in-1"); c.State != webhook.ClaimOwned {
		t.Fatalf("Claim(pending-in-1) = %v", c.State)
	}

	db2, d2 := open()
	// The second's first claim waits until the first has shared its keys.
	if c := state(d2, "done-by-1"); c.State != webhook.ClaimDone || string(c.Reply) != "r1" {
		t.Errorf("second process: Claim(done-by-1) = %v %q, want done with the first's reply", c.State, c.Reply)
	}
	if c := state(d2, "pending-in-1"); c.State != webhook.ClaimPending {
		t.Errorf("second process: Claim(pending-in-1) = %v, want pending (the first holds it)", c.State)
	}
	if d1.Exclusive() || d2.Exclusive() {
		t.Errorf("with two processes: exclusive %v and %v, want both shared", d1.Exclusive(), d2.Exclusive())
	}
	if c := state(d2, "done-by-2"); c.State != webhook.ClaimOwned {
		t.Fatalf("Claim(done-by-2) = %v", c.State)
	}
	if err := d2.Complete(ctx, "done-by-2", []byte("r2"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if c := state(d1, "done-by-2"); c.State != webhook.ClaimDone || string(c.Reply) != "r2" {
		t.Errorf("first process: Claim(done-by-2) = %v %q, want done", c.State, c.Reply)
	}

	db2.Close()
	waitFor("the first process to be alone again", d1.Exclusive)
	if c := state(d1, "done-by-2"); c.State != webhook.ClaimDone || string(c.Reply) != "r2" {
		t.Errorf("first process alone again: Claim(done-by-2) = %v %q, want done (loaded from the table)", c.State, c.Reply)
	}
	if err := d1.Complete(ctx, "done-late", []byte("r3"), time.Minute); err != nil {
		t.Fatal(err)
	}
	db1.Close() // writes what is still in memory

	_, d3 := open()
	for key, reply := range map[string]string{"done-by-1": "r1", "done-by-2": "r2", "done-late": "r3"} {
		if c := state(d3, key); c.State != webhook.ClaimDone || string(c.Reply) != reply {
			t.Errorf("restarted process: Claim(%s) = %v %q, want done %q", key, c.State, c.Reply, reply)
		}
	}
	if !d3.Exclusive() {
		t.Error("restarted process alone is not exclusive")
	}
}
