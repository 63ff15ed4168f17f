package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wxkit/wxkit/webhook"
)

// Dedup is a webhook.DedupStore in Redis, shared by every process using the
// same Redis and key prefix. A key (prefixed "wxkit:dedup:") holds "p" while
// pending and "d" followed by the reply when done, with the lease or TTL as
// its Redis expiry. A claim is one atomic script: SET NX PX, or GET when the
// key exists.
type Dedup struct {
	c *Client
}

var _ webhook.DedupStore = (*Dedup)(nil)

// NewDedup returns a Dedup on c.
func NewDedup(c *Client) *Dedup { return &Dedup{c: c} }

const (
	dedupPrefix  = "wxkit:dedup:"
	dedupPending = "p"
	dedupDone    = 'd'
)

// claimScript sets the key to pending if absent and returns "", or returns
// the current value.
var claimScript = goredis.NewScript(`
if redis.call('SET', KEYS[1], 'p', 'NX', 'PX', ARGV[1]) then
	return ''
end
return redis.call('GET', KEYS[1])
`)

// releaseScript deletes the key only while it is pending.
var releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == 'p' then
	return redis.call('DEL', KEYS[1])
end
return 0
`)

func pxMillis(ttl time.Duration) int64 { return max(ttl.Milliseconds(), 1) }

// Claim implements webhook.DedupStore.
func (d *Dedup) Claim(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	k := d.c.key(dedupPrefix + key)
	for range 3 {
		v, err := claimScript.Run(ctx, d.c.rdb, []string{k}, pxMillis(ttl)).Text()
		if errors.Is(err, goredis.Nil) {
			continue // expired between SET and GET: claim again
		}
		if err != nil {
			return webhook.Claim{}, fmt.Errorf("redis: dedup claim %q: %w", key, err)
		}
		switch {
		case v == "":
			return webhook.Claim{State: webhook.ClaimOwned}, nil
		case v == dedupPending:
			return webhook.Claim{State: webhook.ClaimPending}, nil
		case v[0] == dedupDone:
			return webhook.Claim{State: webhook.ClaimDone, Reply: []byte(v[1:])}, nil
		default:
			return webhook.Claim{}, fmt.Errorf("redis: dedup claim %q: unexpected value in store", key)
		}
	}
	return webhook.Claim{}, fmt.Errorf("redis: dedup claim %q: key keeps expiring under contention", key)
}

// Complete implements webhook.DedupStore.
func (d *Dedup) Complete(ctx context.Context, key string, reply []byte, ttl time.Duration) error {
	v := make([]byte, 0, 1+len(reply))
	v = append(append(v, dedupDone), reply...)
	if err := d.c.rdb.Set(ctx, d.c.key(dedupPrefix+key), v, time.Duration(pxMillis(ttl))*time.Millisecond).Err(); err != nil {
		return fmt.Errorf("redis: dedup complete %q: %w", key, err)
	}
	return nil
}

// Release implements webhook.DedupStore: it deletes key only while pending.
func (d *Dedup) Release(ctx context.Context, key string) error {
	if err := releaseScript.Run(ctx, d.c.rdb, []string{d.c.key(dedupPrefix + key)}).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("redis: dedup release %q: %w", key, err)
	}
	return nil
}
