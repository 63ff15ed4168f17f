package gateway

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/wxkit/wxkit/webhook"
)

// tieredDedup puts an in-process MemoryDedup in front of a shared
// DedupStore (the SQL store's claims table, or Redis).
//
// Where the memory answers alone it is correct to do so: a key it holds as
// done is done everywhere (done is final, and the memory was completed by
// this process after the shared store), and a key it holds as pending is
// being processed by this process (so a concurrent retry waits here,
// without polling the shared store). Only a key the memory does not know —
// every first delivery — is claimed in the shared store, which arbitrates
// between processes.
//
// When the shared store fails (an outage), the memory alone decides: the
// push is processed and answered, and only a retry that reaches another
// instance during the outage can run the handler a second time. After a
// failure the shared store is left alone for sharedPause, so that pushes
// do not each wait for a connection attempt. Failures are logged (at most
// once a second) and counted.
type tieredDedup struct {
	local  *webhook.MemoryDedup
	shared webhook.DedupStore
	poll   time.Duration // shared-store poll interval; DefaultDedupPollInterval when 0
	logger *slog.Logger
	// storeError, when set, counts a failure of the shared store by op.
	storeError func(op string)

	lastWarn  atomic.Int64 // Unix ns of the last outage log line
	downUntil atomic.Int64 // Unix ns: the shared store failed; skip it until then
}

// Bounds of the in-process tier in front of a shared dedup store: it is a
// cache (the shared store decides), so it is kept smaller than a
// MemoryDedup that decides alone (dedup: memory).
const (
	localTierEntries = 10_000
	localTierBytes   = 4 << 20
)

// sharedPause is how long the shared store is left alone after it failed,
// so that pushes during an outage do not each wait for a connection
// attempt.
const sharedPause = time.Second

// sharedDown reports whether the shared store failed within sharedPause.
func (d *tieredDedup) sharedDown() bool {
	until := d.downUntil.Load()
	return until != 0 && time.Now().UnixNano() < until
}

// sharedFailed records a failure of the shared store.
func (d *tieredDedup) sharedFailed(ctx context.Context, op string, err error) {
	d.downUntil.Store(time.Now().Add(sharedPause).UnixNano())
	if d.storeError != nil {
		d.storeError(op)
	}
	now := time.Now().UnixNano()
	last := d.lastWarn.Load()
	if d.logger != nil && now-last >= int64(time.Second) && d.lastWarn.CompareAndSwap(last, now) {
		d.logger.LogAttrs(ctx, slog.LevelError, "dedup: shared store failed; deciding from this instance's memory",
			slog.String("op", op), slog.String("error", err.Error()))
	}
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
	if d.sharedDown() {
		return webhook.Claim{State: webhook.ClaimOwned}, nil
	}
	c, err := d.shared.Claim(ctx, key, ttl)
	if err != nil {
		if ctx.Err() != nil {
			d.local.Release(context.WithoutCancel(ctx), key)
			return c, err
		}
		// The memory's claim stands: process the push here.
		d.sharedFailed(ctx, "dedup_claim", err)
		return webhook.Claim{State: webhook.ClaimOwned}, nil
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

// Complete implements webhook.DedupStore: shared store first, then
// memory. A failure of the shared store is counted, not returned: the
// memory holds the answer for retries that reach this instance.
func (d *tieredDedup) Complete(ctx context.Context, key string, reply []byte, ttl time.Duration) error {
	if d.sharedDown() {
		return d.local.Complete(context.WithoutCancel(ctx), key, reply, ttl)
	}
	if err := d.shared.Complete(ctx, key, reply, ttl); err != nil {
		d.sharedFailed(ctx, "dedup_complete", err)
	}
	return d.local.Complete(context.WithoutCancel(ctx), key, reply, ttl)
}

// Release implements webhook.DedupStore.
func (d *tieredDedup) Release(ctx context.Context, key string) error {
	if d.sharedDown() {
		return d.local.Release(context.WithoutCancel(ctx), key)
	}
	if err := d.shared.Release(ctx, key); err != nil {
		d.sharedFailed(ctx, "dedup_release", err)
	}
	return d.local.Release(context.WithoutCancel(ctx), key)
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
