package token

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// A CacheOption configures NewCachedSource.
type CacheOption interface{ applyCache(*cacheConfig) }

// A ProviderOption configures the providers (NewStableTokenProvider,
// NewClientCredentialProvider, NewJSAPITicketProvider, NewRemote).
type ProviderOption interface{ applyProvider(*providerConfig) }

type cacheConfig struct {
	now          func() time.Time
	expiryDelta  time.Duration
	lockTTL      time.Duration
	pollInterval time.Duration
	localTTL     time.Duration
	retryAfter   time.Duration
	logger       *slog.Logger
}

type providerConfig struct {
	now     func() time.Time
	baseURL string
	client  *http.Client
	// sleep waits between retries of a busy platform; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// Defaults of CachedSource.
const (
	// DefaultExpiryDelta is how long before its expiry a token is refreshed.
	// It is below the 5 minutes during which cgi-bin/stable_token keeps
	// answering the same token, so that a proactive refresh does get a new one.
	DefaultExpiryDelta = 3 * time.Minute
	// DefaultLockTTL is the lease taken on the store while fetching.
	DefaultLockTTL = 30 * time.Second
	// DefaultPollInterval is how often callers waiting on another holder's
	// lease poll the store.
	DefaultPollInterval = 50 * time.Millisecond
	// DefaultLocalTTL is how long a token is served from process memory
	// before the store is consulted again (the platform's advice for workers
	// is about one minute).
	DefaultLocalTTL = time.Minute
	// DefaultBaseURL is the WeChat API host the providers call.
	DefaultBaseURL = "https://api.weixin.qq.com/"
)

type cacheOptionFunc func(*cacheConfig)

func (f cacheOptionFunc) applyCache(c *cacheConfig) { f(c) }

type providerOptionFunc func(*providerConfig)

func (f providerOptionFunc) applyProvider(c *providerConfig) { f(c) }

// WithExpiryDelta sets how long before its expiry a token is refreshed
// (default DefaultExpiryDelta). While the old token is still valid the
// refresh does not block callers: they keep getting the old one if another
// holder is refreshing or the fetch fails. With cgi-bin/stable_token keep it
// below 5 minutes. A negative d is treated as 0.
func WithExpiryDelta(d time.Duration) CacheOption {
	return cacheOptionFunc(func(c *cacheConfig) { c.expiryDelta = max(d, 0) })
}

// WithLockTTL sets the lease taken on the store while fetching (default
// DefaultLockTTL). The fetch itself is bounded to 90% of it, so that no other
// holder can start a fetch while this one may still succeed.
func WithLockTTL(d time.Duration) CacheOption {
	return cacheOptionFunc(func(c *cacheConfig) {
		if d > 0 {
			c.lockTTL = d
		}
	})
}

// WithPollInterval sets how often a caller waiting on another holder's lease
// polls the store (default DefaultPollInterval, with ±25% jitter).
func WithPollInterval(d time.Duration) CacheOption {
	return cacheOptionFunc(func(c *cacheConfig) {
		if d > 0 {
			c.pollInterval = d
		}
	})
}

// WithLocalTTL sets how long a token is served from process memory before
// the store is read again (default DefaultLocalTTL). 0 reads the store on
// every call.
func WithLocalTTL(d time.Duration) CacheOption {
	return cacheOptionFunc(func(c *cacheConfig) { c.localTTL = max(d, 0) })
}

// WithLogger sets the logger for refresh failures that are absorbed (the old
// token is still valid). Token values are logged redacted. Default: discard.
func WithLogger(l *slog.Logger) CacheOption {
	return cacheOptionFunc(func(c *cacheConfig) {
		if l != nil {
			c.logger = l
		}
	})
}

// ClockOption replaces time.Now; it configures CachedSource and the
// providers alike (for tests).
type ClockOption func() time.Time

func (o ClockOption) applyCache(c *cacheConfig)       { c.now = o }
func (o ClockOption) applyProvider(c *providerConfig) { c.now = o }

// WithClock replaces time.Now in a CachedSource or a provider.
func WithClock(now func() time.Time) ClockOption { return ClockOption(now) }

// WithBaseURL sets the API host a provider calls (default DefaultBaseURL;
// the emulator or an httptest server in tests). A missing trailing slash is
// added.
func WithBaseURL(u string) ProviderOption {
	return providerOptionFunc(func(c *providerConfig) {
		if u != "" && !strings.HasSuffix(u, "/") {
			u += "/"
		}
		c.baseURL = u
	})
}

// WithHTTPClient sets the *http.Client a provider uses (default
// http.DefaultClient).
func WithHTTPClient(hc *http.Client) ProviderOption {
	return providerOptionFunc(func(c *providerConfig) { c.client = hc })
}

func newProviderConfig(opts []ProviderOption) providerConfig {
	c := providerConfig{now: time.Now, baseURL: DefaultBaseURL, client: http.DefaultClient}
	for _, o := range opts {
		if o != nil {
			o.applyProvider(&c)
		}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.client == nil {
		c.client = http.DefaultClient
	}
	if c.baseURL == "" {
		c.baseURL = DefaultBaseURL
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	return c
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
