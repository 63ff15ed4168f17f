package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Client is a Redis connection shared by the stores of this package, with an
// optional prefix put in front of every key they use.
type Client struct {
	rdb    goredis.UniversalClient
	prefix string
	now    func() time.Time
}

// An Option configures New and Open.
type Option func(*Client)

// WithKeyPrefix puts prefix in front of every key the stores use (for
// several deployments, or tests, sharing one Redis).
func WithKeyPrefix(prefix string) Option { return func(c *Client) { c.prefix = prefix } }

// WithClock replaces time.Now as the client's clock, which sets the Redis
// expiry (PX) of OAuth states (PutState takes no caller's clock). Expiry
// itself is always checked against the caller's clock.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// Timeouts Open sets on the connection unless the URL sets them: a Redis that
// is down or unreachable gives an error within about these, not a hang.
const (
	DialTimeout = 2 * time.Second
	IOTimeout   = 2 * time.Second
)

// New wraps an existing go-redis client.
func New(rdb goredis.UniversalClient, opts ...Option) *Client {
	c := &Client{rdb: rdb, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Open connects to the Redis named by url ("redis://[user:pass@]host:port/db",
// "rediss://..." for TLS, as go-redis's ParseURL accepts) and pings it, so
// that a wrong address fails here with an error naming the address (never the
// password). Dial and I/O timeouts default to 2 s, command retries to one and dial
// attempts to two. opts apply as in New.
func Open(url string, opts ...Option) (*Client, error) {
	c, err := Connect(url, opts...)
	if err != nil {
		return nil, err
	}
	o := c.rdb.(*goredis.Client).Options()
	ctx, cancel := context.WithTimeout(context.Background(), o.DialTimeout+o.ReadTimeout)
	defer cancel()
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis: open %s: %w", o.Addr, err)
	}
	return c, nil
}

// Connect is Open without the ping: it parses url and returns a Client
// whose connections are made on first use, so that a server that is down
// now is not an error (a gateway starts anyway, reports it at /readyz and
// uses Redis once it answers). A malformed url is an error.
func Connect(url string, opts ...Option) (*Client, error) {
	o, err := goredis.ParseURL(url)
	if err != nil {
		return nil, errors.New("redis: open: malformed URL (want redis://host:port/db)")
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DialTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = IOTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = IOTimeout
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 1
	}
	if o.DialerRetries == 0 {
		o.DialerRetries = 2
	}
	return New(goredis.NewClient(o), opts...), nil
}

// Redis returns the underlying go-redis client.
func (c *Client) Redis() goredis.UniversalClient { return c.rdb }

// Ping checks that Redis answers (store.Pinger).
func (c *Client) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

// Close closes the connection pool.
func (c *Client) Close() error { return c.rdb.Close() }

// key returns k with the client's prefix.
func (c *Client) key(k string) string { return c.prefix + k }
