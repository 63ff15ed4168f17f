package redis

import (
	"testing"
	"time"

	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// TestDedup runs the DedupStore conformance suite against the test Redis
// (internal/testenv: skipped when unreachable, fatal under CI=true).
func TestDedup(t *testing.T) {
	t.Parallel()
	webhooktest.TestDedupStore(t, func(t *testing.T) webhook.DedupStore { return NewDedup(newTestClient(t)) })
}

// TestDedupAcrossClients checks a claim through one connection pool against
// another on the same prefix, as two processes would share Redis.
func TestDedupAcrossClients(t *testing.T) {
	t.Parallel()
	first := newTestClient(t)
	other := otherClient(t, first)
	a, b := NewDedup(first), NewDedup(other)
	ctx := t.Context()

	if c, err := a.Claim(ctx, "k", time.Minute); err != nil || c.State != webhook.ClaimOwned {
		t.Fatalf("a.Claim = %v, %v; want owned", c.State, err)
	}
	if c, err := b.Claim(ctx, "k", time.Minute); err != nil || c.State != webhook.ClaimPending {
		t.Fatalf("b.Claim = %v, %v; want pending", c.State, err)
	}
	if err := a.Complete(ctx, "k", []byte("<xml/>"), time.Minute); err != nil {
		t.Fatal(err)
	}
	c, err := b.Claim(ctx, "k", time.Minute)
	if err != nil || c.State != webhook.ClaimDone || string(c.Reply) != "<xml/>" {
		t.Fatalf("b.Claim after Complete = %v %q, %v; want done <xml/>", c.State, c.Reply, err)
	}
}
