package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

func newTestDedup(t *testing.T, path string) *Dedup {
	t.Helper()
	db, err := Open("sqlite://" + path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	d, err := NewDedup(db)
	if err != nil {
		t.Fatalf("NewDedup: %v", err)
	}
	return d
}

func TestDedupConformance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dedup.db")
	d := newTestDedup(t, path)
	webhooktest.TestDedupStore(t, func(*testing.T) webhook.DedupStore { return d })
}

func TestDedupInMemory(t *testing.T) {
	db, err := Open(":memory:")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	d, err := NewDedup(db)
	if err != nil {
		t.Fatalf("NewDedup: %v", err)
	}
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
