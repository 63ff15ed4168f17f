package gateway

import (
	"context"
	"time"

	"github.com/wxkit/wxkit/webhook"
)

// tieredDedup puts an in-process MemoryDedup in front of a shared, durable
// DedupStore (the SQLite message log, or Redis).
//
// Where the memory answers alone it is correct to do so: a key it holds as
// done is done everywhere (done is final, and the memory was completed by
// this process after the shared store), and a key it holds as pending is
// being processed by this process (so a concurrent retry waits here,
// without polling the shared store). Only a key the memory does not know —
// every first delivery — is claimed in the shared store, which arbitrates
// between processes.
type tieredDedup struct {
	local  *webhook.MemoryDedup
	shared webhook.DedupStore
	poll   time.Duration // shared-store poll interval; DefaultDedupPollInterval when 0
}

var (
	_ webhook.DedupStore  = (*tieredDedup)(nil)
	_ webhook.DedupWaiter = (*tieredDedup)(nil)
)

// Claim implements webhook.DedupStore.
func (d *tieredDedup) Claim(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	c, err := d.local.Claim(ctx, key, ttl)
	if err != nil || c.State != webhook.ClaimOwned {
		return c, err
	}
	return d.claimShared(ctx, key, ttl)
}

// claimShared asks the shared store about a key the memory has just
// claimed, and brings the memory in line with its answer.
func (d *tieredDedup) claimShared(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	c, err := d.shared.Claim(ctx, key, ttl)
	if err != nil {
		d.local.Release(context.WithoutCancel(ctx), key)
		return c, err
	}
	switch c.State {
	case webhook.ClaimDone:
		// Remember the answer so that further retries stay in memory.
		d.local.Complete(context.WithoutCancel(ctx), key, c.Reply, ttl)
	case webhook.ClaimPending:
		// Another process holds it: do not hold it here, so that the
		// Server's next poll asks the shared store again.
		d.local.Release(context.WithoutCancel(ctx), key)
	}
	return c, nil
}

// Wait implements webhook.DedupWaiter: it waits in memory for a delivery
// this process is handling; when another process holds the key it polls
// the shared store every pollInterval. It never returns ClaimPending.
func (d *tieredDedup) Wait(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	for {
		c, err := d.local.Wait(ctx, key, ttl)
		if err != nil || c.State != webhook.ClaimOwned {
			return c, err
		}
		c, err = d.claimShared(ctx, key, ttl)
		if err != nil || c.State != webhook.ClaimPending {
			return c, err
		}
		t := time.NewTimer(d.pollInterval())
		select {
		case <-ctx.Done():
			t.Stop()
			return webhook.Claim{}, ctx.Err()
		case <-t.C:
		}
	}
}

func (d *tieredDedup) pollInterval() time.Duration {
	if d.poll > 0 {
		return d.poll
	}
	return webhook.DefaultDedupPollInterval
}

// Complete implements webhook.DedupStore: shared store first, then memory.
func (d *tieredDedup) Complete(ctx context.Context, key string, reply []byte, ttl time.Duration) error {
	err := d.shared.Complete(ctx, key, reply, ttl)
	if lerr := d.local.Complete(context.WithoutCancel(ctx), key, reply, ttl); err == nil {
		err = lerr
	}
	return err
}

// Release implements webhook.DedupStore.
func (d *tieredDedup) Release(ctx context.Context, key string) error {
	err := d.shared.Release(ctx, key)
	if lerr := d.local.Release(context.WithoutCancel(ctx), key); err == nil {
		err = lerr
	}
	return err
}

// prefixedDedup scopes the keys of a DedupStore shared by several apps (a
// Redis): message.DedupKey values ("msg:<MsgId>", "evt:…") are unique per
// account, not across accounts.
type prefixedDedup struct {
	prefix string
	inner  webhook.DedupStore
}

var _ webhook.DedupStore = prefixedDedup{}

// Claim implements webhook.DedupStore.
func (p prefixedDedup) Claim(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	return p.inner.Claim(ctx, p.prefix+key, ttl)
}

// Complete implements webhook.DedupStore.
func (p prefixedDedup) Complete(ctx context.Context, key string, reply []byte, ttl time.Duration) error {
	return p.inner.Complete(ctx, p.prefix+key, reply, ttl)
}

// Release implements webhook.DedupStore.
func (p prefixedDedup) Release(ctx context.Context, key string) error {
	return p.inner.Release(ctx, p.prefix+key)
}
