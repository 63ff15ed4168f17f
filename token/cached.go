package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// CachedSource is a Source that shares one token among every process using
// the same Store: oauth2's ReuseTokenSource done across processes. For each
// Token call it
//
//  1. serves the token from process memory while it is fresh (for at most
//     the local TTL, default one minute);
//  2. otherwise, in a single flight per process (callers wait for one
//     load; it is abandoned when all of them have given up), reads the store and
//     returns the stored token if it is fresh;
//  3. otherwise leases the key (Store.Lock), reads the store again
//     (double-checked), fetches from the upstream Source, stores the new
//     token and releases the lease;
//  4. when another holder has the lease, polls the store until the new token
//     appears, the lease ends (and it takes it over), or ctx is done.
//
// A token is refreshed proactively once it is within the expiry delta of its
// expiry; until it actually expires, callers keep getting it without waiting
// when another holder is refreshing or the refresh fails. So any number of
// processes sharing a store make exactly one upstream fetch per token
// lifetime.
//
// The *Token values it returns are shared: callers must not modify them.
// CachedSource is safe for concurrent use. It implements Invalidator.
type CachedSource struct {
	store Store
	key   string
	fetch Source
	cfg   cacheConfig

	local        atomic.Pointer[localEntry]
	mu           sync.Mutex
	flight       *flight         // the in-process load in progress, if any
	lastFailedAt time.Time       // last failed proactive refresh
	rejected     []rejectedValue // values invalidated here, never served again
}

// rejectedValue is a token value that Invalidate was told WeChat rejected,
// remembered until the token's own expiry.
type rejectedValue struct {
	value  string
	expiry time.Time
}

// maxRejected bounds the rejected values a CachedSource remembers.
const maxRejected = 8

type localEntry struct {
	tok   *Token
	until time.Time // serve from memory before this instant
}

var (
	_ Source      = (*CachedSource)(nil)
	_ Invalidator = (*CachedSource)(nil)
)

// NewCachedSource returns a CachedSource that keeps the token under key in
// store and gets new ones from fetch (a provider such as
// NewStableTokenProvider). Use AccessTokenKey or JSAPITicketKey for key. If
// fetch implements Rejecter it is told about every token invalidated through
// Invalidate.
func NewCachedSource(store Store, key string, fetch Source, opts ...CacheOption) *CachedSource {
	cfg := cacheConfig{
		now:          time.Now,
		expiryDelta:  DefaultExpiryDelta,
		lockTTL:      DefaultLockTTL,
		pollInterval: DefaultPollInterval,
		localTTL:     DefaultLocalTTL,
		retryAfter:   10 * time.Second,
		logger:       slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if o != nil {
			o.applyCache(&cfg)
		}
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	return &CachedSource{store: store, key: key, fetch: fetch, cfg: cfg}
}

// Key returns the store key the source keeps its token under.
func (c *CachedSource) Key() string { return c.key }

// Token returns a valid token; see CachedSource for how. Errors from the
// store and from the upstream fetch are returned wrapped; when ctx ends while
// waiting for another holder, the error wraps ctx.Err().
func (c *CachedSource) Token(ctx context.Context) (*Token, error) {
	now := c.cfg.now()
	if e := c.local.Load(); e != nil && now.Before(e.until) && e.tok.validAt(now) {
		return e.tok, nil
	}
	c.mu.Lock()
	f := c.flight
	if f == nil {
		// The load outlives the caller that started it (others may be
		// waiting on it with later deadlines); it is canceled when every
		// waiting caller has given up, and bounded by the lease.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*c.cfg.lockTTL)
		f = &flight{done: make(chan struct{}), cancel: cancel}
		c.flight = f
		go func() {
			tok, err := c.load(lctx)
			cancel()
			c.mu.Lock()
			f.tok, f.err = tok, err
			if c.flight == f {
				c.flight = nil
			}
			c.mu.Unlock()
			close(f.done)
		}()
	}
	f.waiters++
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
			if c.flight == f {
				c.flight = nil
			}
		}
		c.mu.Unlock()
		return nil, fmt.Errorf("token: %s: %w", c.key, ctx.Err())
	}
}

// flight is one in-process load shared by the callers waiting on it.
type flight struct {
	done    chan struct{}
	cancel  context.CancelFunc
	waiters int // guarded by CachedSource.mu
	tok     *Token
	err     error
}

// setLocal remembers t in process memory (unless it was rejected meanwhile:
// a load that read the store just before an Invalidate must not put the bad
// token back).
func (c *CachedSource) setLocal(t *Token, now time.Time) {
	if c.isRejected(t.Value, now) {
		return
	}
	until := now.Add(c.cfg.localTTL)
	if !t.Expiry.IsZero() {
		until = minTime(until, t.Expiry.Add(-c.cfg.expiryDelta))
	}
	c.local.Store(&localEntry{tok: t, until: until})
}

// setLocalStale remembers a valid but no longer fresh t for a short while,
// so that callers are not all sent to the store during a refresh another
// holder is making or that failed.
func (c *CachedSource) setLocalStale(t *Token, now time.Time) {
	if c.isRejected(t.Value, now) {
		return
	}
	until := now.Add(min(c.cfg.pollInterval, c.cfg.localTTL))
	if !t.Expiry.IsZero() {
		until = minTime(until, t.Expiry)
	}
	c.local.Store(&localEntry{tok: t, until: until})
}

// isRejected reports whether value was invalidated here and has not
// expired since.
func (c *CachedSource) isRejected(value string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.rejected {
		if r.value == value && (r.expiry.IsZero() || now.Before(r.expiry)) {
			return true
		}
	}
	return false
}

// getStored reads the store, reporting a token invalidated here as
// ErrNotFound: another process may not have deleted it yet, or a delete
// may have lost a race with a reader.
func (c *CachedSource) getStored(ctx context.Context) (*Token, error) {
	t, err := c.store.Get(ctx, c.key)
	if err == nil && c.isRejected(t.Value, c.cfg.now()) {
		return nil, ErrNotFound
	}
	return t, err
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// load runs in the single flight; ctx bounds the work.
func (c *CachedSource) load(ctx context.Context) (*Token, error) {
	now := c.cfg.now()
	t, err := c.getStored(ctx)
	var stale *Token // still valid, no longer fresh
	switch {
	case err == nil && t.freshAt(now, c.cfg.expiryDelta):
		c.setLocal(t, now)
		return t, nil
	case err == nil && t.validAt(now):
		stale = t
		c.mu.Lock()
		recent := !c.lastFailedAt.IsZero() && now.Sub(c.lastFailedAt) < c.cfg.retryAfter
		c.mu.Unlock()
		if recent {
			c.setLocalStale(t, now)
			return t, nil
		}
	case err == nil, errors.Is(err, ErrNotFound):
	default:
		return nil, fmt.Errorf("token: %s: store get: %w", c.key, err)
	}

	var unlock func(context.Context) error
	for {
		unlock, err = c.store.Lock(ctx, c.key, c.cfg.lockTTL)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrLocked) {
			if stale != nil {
				c.cfg.logger.Warn("token: lock failed; serving the old token", "key", c.key, "err", err)
				c.setLocalStale(stale, c.cfg.now())
				return stale, nil
			}
			return nil, fmt.Errorf("token: %s: store lock: %w", c.key, err)
		}
		// Another holder is refreshing.
		if stale != nil && stale.validAt(c.cfg.now()) {
			c.setLocalStale(stale, c.cfg.now())
			return stale, nil
		}
		if err := c.sleep(ctx); err != nil {
			return nil, fmt.Errorf("token: %s: waiting for another holder's refresh: %w", c.key, err)
		}
		t, err = c.getStored(ctx)
		now = c.cfg.now()
		switch {
		case err == nil && t.freshAt(now, c.cfg.expiryDelta):
			c.setLocal(t, now)
			return t, nil
		case err == nil && t.validAt(now):
			stale = t
		case err == nil, errors.Is(err, ErrNotFound):
		default:
			return nil, fmt.Errorf("token: %s: store get: %w", c.key, err)
		}
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := unlock(uctx); err != nil {
			c.cfg.logger.Warn("token: unlock failed; the lease will expire", "key", c.key, "err", err)
		}
	}()

	// Double-check: another holder may have stored a new token meanwhile.
	t, err = c.getStored(ctx)
	now = c.cfg.now()
	switch {
	case err == nil && t.freshAt(now, c.cfg.expiryDelta):
		c.setLocal(t, now)
		return t, nil
	case err == nil && t.validAt(now):
		stale = t
	case err == nil, errors.Is(err, ErrNotFound):
	default:
		return nil, fmt.Errorf("token: %s: store get: %w", c.key, err)
	}

	fctx, cancel := context.WithTimeout(ctx, c.cfg.lockTTL*9/10)
	defer cancel()
	nt, err := c.fetch.Token(fctx)
	now = c.cfg.now()
	if err == nil && !nt.validAt(now) {
		err = errors.New("fetched token is empty or already expired")
	}
	if err != nil {
		if stale != nil && stale.validAt(now) {
			c.mu.Lock()
			c.lastFailedAt = now
			c.mu.Unlock()
			c.cfg.logger.Warn("token: proactive refresh failed; serving the old token", "key", c.key, "err", err, "token", stale)
			c.setLocalStale(stale, now)
			return stale, nil
		}
		return nil, fmt.Errorf("token: %s: fetch: %w", c.key, err)
	}
	c.mu.Lock()
	c.lastFailedAt = time.Time{}
	c.mu.Unlock()
	if err := c.store.Set(ctx, c.key, nt); err != nil {
		// Still usable here; other processes will fetch their own.
		c.cfg.logger.Warn("token: store set failed", "key", c.key, "err", err)
	}
	c.setLocal(nt, now)
	return nt, nil
}

// sleep waits about one poll interval (±25% jitter) or until ctx is done.
func (c *CachedSource) sleep(ctx context.Context) error {
	d := c.cfg.pollInterval
	d = d*3/4 + time.Duration(rand.Int64N(int64(d/2)+1))
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Invalidate forgets bad, the token WeChat just rejected (errcode 40001,
// 40014 or 42001): it drops it from process memory and deletes it from the
// store, each only if it still holds bad, so a burst of callers that saw the
// same rejection causes a single refresh. If it did delete bad and the
// upstream Source implements Rejecter, the Source is told, so that its next
// fetch asks for a new token (stable_token's force_refresh). Invalidating nil
// or an empty token does nothing.
//
// The CachedSource also remembers bad (until its expiry) and never serves
// it again, even when a load that read it from the store before this call
// completes afterwards, or another process has not deleted its copy yet;
// and callers after Invalidate do not join a load already in flight. So a
// caller that invalidates and retries never gets bad back.
func (c *CachedSource) Invalidate(ctx context.Context, bad *Token) error {
	if bad == nil || bad.Value == "" {
		return nil
	}
	now := c.cfg.now()
	c.mu.Lock()
	if len(c.rejected) >= maxRejected {
		c.rejected = slices.DeleteFunc(c.rejected, func(r rejectedValue) bool { return !r.expiry.IsZero() && !now.Before(r.expiry) })
		if len(c.rejected) >= maxRejected {
			c.rejected = c.rejected[1:]
		}
	}
	c.rejected = append(c.rejected, rejectedValue{value: bad.Value, expiry: bad.Expiry})
	// A load already in flight may have read bad before it was rejected:
	// callers from now on start a fresh one.
	c.flight = nil
	c.mu.Unlock()
	if e := c.local.Load(); e != nil && e.tok.Value == bad.Value {
		c.local.CompareAndSwap(e, nil)
	}
	var deleted bool
	if vd, ok := c.store.(ValueDeleter); ok {
		d, err := vd.DeleteValue(ctx, c.key, bad.Value)
		if err != nil {
			return fmt.Errorf("token: %s: invalidate: %w", c.key, err)
		}
		deleted = d
	} else {
		t, err := c.store.Get(ctx, c.key) // the raw store: bad is rejected by now
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return fmt.Errorf("token: %s: invalidate: %w", c.key, err)
		case t.Value == bad.Value:
			if err := c.store.Delete(ctx, c.key); err != nil {
				return fmt.Errorf("token: %s: invalidate: %w", c.key, err)
			}
			deleted = true
		}
	}
	if deleted {
		if r, ok := c.fetch.(Rejecter); ok {
			r.Reject(bad)
		}
	}
	return nil
}
