package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wxkit/wxkit/token"
)

// TokenStore is a token.Store in Redis, shared by every process using the
// same server. A token is a string key holding {"v": value, "e": expiry in
// Unix ms (0: none)} set with PX so that Redis drops it at its expiry. A
// lease is the key "<key>:lock" set with SET NX PX to a random holder id and
// released by a Lua compare-and-delete, so only its holder releases it.
type TokenStore struct {
	c   *Client
	now func() time.Time
}

var (
	_ token.Store        = (*TokenStore)(nil)
	_ token.ValueDeleter = (*TokenStore)(nil)
)

// NewTokenStore returns a token store on c.
func NewTokenStore(c *Client) *TokenStore { return &TokenStore{c: c, now: time.Now} }

type storedToken struct {
	V string `json:"v"`
	E int64  `json:"e"` // Unix ms, 0 = never
}

// Lua scripts: delete KEYS[1] only if it still holds ARGV[1].
var (
	unlockScript = goredis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)
	deleteValueScript = goredis.NewScript(`
local raw = redis.call("GET", KEYS[1])
if not raw then return 0 end
local ok, t = pcall(cjson.decode, raw)
if ok and type(t) == "table" and t["v"] == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)
)

// Get implements token.Store.
func (s *TokenStore) Get(ctx context.Context, key string) (*token.Token, error) {
	raw, err := s.c.rdb.Get(ctx, s.c.key(key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, token.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("redis: token get %q: %w", key, err)
	}
	var st storedToken
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("redis: token get %q: malformed entry", key)
	}
	t := &token.Token{Value: st.V}
	if st.E != 0 {
		t.Expiry = time.UnixMilli(st.E)
		if !s.now().Before(t.Expiry) {
			return nil, token.ErrNotFound
		}
	}
	return t, nil
}

// Set implements token.Store.
func (s *TokenStore) Set(ctx context.Context, key string, t *token.Token) error {
	if t == nil {
		return errors.New("redis: token set: nil token")
	}
	var ttl time.Duration
	st := storedToken{V: t.Value}
	if !t.Expiry.IsZero() {
		st.E = t.Expiry.UnixMilli()
		ttl = t.Expiry.Sub(s.now())
		if ttl < time.Millisecond {
			return s.Delete(ctx, key)
		}
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("redis: token set %q: %w", key, err)
	}
	if err := s.c.rdb.Set(ctx, s.c.key(key), raw, ttl).Err(); err != nil {
		return fmt.Errorf("redis: token set %q: %w", key, err)
	}
	return nil
}

// Delete implements token.Store.
func (s *TokenStore) Delete(ctx context.Context, key string) error {
	if err := s.c.rdb.Del(ctx, s.c.key(key)).Err(); err != nil {
		return fmt.Errorf("redis: token delete %q: %w", key, err)
	}
	return nil
}

// DeleteValue implements token.ValueDeleter with a Lua script.
func (s *TokenStore) DeleteValue(ctx context.Context, key, value string) (bool, error) {
	n, err := deleteValueScript.Run(ctx, s.c.rdb, []string{s.c.key(key)}, value).Int()
	if err != nil {
		return false, fmt.Errorf("redis: token delete %q: %w", key, err)
	}
	return n > 0, nil
}

// Lock implements token.Store.
func (s *TokenStore) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	if ttl < time.Millisecond {
		return nil, errors.New("redis: token lock: ttl must be at least 1ms")
	}
	holder := token.NewHolderID()
	lk := s.c.key(key) + ":lock"
	ok, err := s.c.rdb.SetNX(ctx, lk, holder, ttl).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: token lock %q: %w", key, err)
	}
	if !ok {
		return nil, token.ErrLocked
	}
	return func(ctx context.Context) error {
		if err := unlockScript.Run(ctx, s.c.rdb, []string{lk}, holder).Err(); err != nil {
			return fmt.Errorf("redis: token unlock %q: %w", key, err)
		}
		return nil
	}, nil
}
