package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wxkit/wxkit/store"
)

const (
	sessionPrefix    = "wxkit:session:"
	oauthStatePrefix = "wxkit:oauthstate:"
)

// sessionKey is the Redis key of session id: its SHA-256, never the id.
func (c *Client) sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return c.key(sessionPrefix + hex.EncodeToString(sum[:]))
}

// stateKey is the Redis key of an OAuth state nonce.
func (c *Client) stateKey(nonce string) string { return c.key(oauthStatePrefix + nonce) }

// StateMinTTL is the least Redis expiry PutState gives a nonce, so that a
// caller whose clock runs behind the client's (an emulated clock) still
// finds its nonce; TakeState checks the expiry on the caller's clock.
const StateMinTTL = time.Minute

var (
	_ store.Sessions    = (*Client)(nil)
	_ store.OAuthStates = (*Client)(nil)
	_ store.Pinger      = (*Client)(nil)
)

// CreateSession implements store.Sessions: it stores sess as JSON (User
// included) under "wxkit:session:" and the hex SHA-256 of id (the id, the
// client's token, is never stored), with SET NX and a Redis expiry (PX) of
// the session's lifetime, sess.Expires - sess.Created (sess.Expires - now
// by the client's clock when Created is zero). id, AppID and OpenID are
// required and the lifetime must be positive; an id in use gives an error
// wrapping store.ErrConflict.
func (c *Client) CreateSession(ctx context.Context, id string, sess *store.Session) error {
	if id == "" || sess == nil || sess.AppID == "" || sess.OpenID == "" {
		return errors.New("redis: session create: id, appid and openid are required")
	}
	from := sess.Created
	if from.IsZero() {
		from = c.now()
	}
	ttl := sess.Expires.Sub(from)
	if ttl <= 0 {
		return errors.New("redis: session create: the session has already expired")
	}
	b, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("redis: session create: %w", err)
	}
	ok, err := c.rdb.SetNX(ctx, c.sessionKey(id), b, time.Duration(pxMillis(ttl))*time.Millisecond).Result()
	if err != nil {
		return fmt.Errorf("redis: session create: %w", err)
	}
	if !ok {
		return fmt.Errorf("redis: session create: session id in use: %w", store.ErrConflict)
	}
	return nil
}

// Session implements store.Sessions: the session of id if it exists and
// has not expired at now (the caller's clock, checked as well as Redis's
// own expiry), else an error wrapping store.ErrNotFound.
func (c *Client) Session(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	b, err := c.rdb.Get(ctx, c.sessionKey(id)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("redis: session: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("redis: session get: %w", err)
	}
	var sess store.Session
	if err := json.Unmarshal(b, &sess); err != nil {
		return nil, errors.New("redis: session get: unexpected value in store")
	}
	if !now.Before(sess.Expires) {
		return nil, fmt.Errorf("redis: session: expired: %w", store.ErrNotFound)
	}
	return &sess, nil
}

// DeleteSession implements store.Sessions: it deletes the session of id;
// an unknown id is not an error.
func (c *Client) DeleteSession(ctx context.Context, id string) error {
	if err := c.rdb.Del(ctx, c.sessionKey(id)).Err(); err != nil {
		return fmt.Errorf("redis: session delete: %w", err)
	}
	return nil
}

// PutState implements store.OAuthStates: it stores nonce under
// "wxkit:oauthstate:" with the value "<expires, Unix ms>:<data>", by SET NX
// with a Redis expiry (PX) of expires - now by the client's clock (see
// WithClock), at least StateMinTTL. A nonce already stored gives an error
// wrapping store.ErrConflict.
func (c *Client) PutState(ctx context.Context, nonce, data string, expires time.Time) error {
	if nonce == "" {
		return errors.New("redis: oauth state put: empty nonce")
	}
	// The expiry is in the value so that TakeState can check the caller's
	// clock as well as Redis's.
	v := strconv.FormatInt(expires.UnixMilli(), 10) + ":" + data
	ttl := max(expires.Sub(c.now()), StateMinTTL)
	ok, err := c.rdb.SetNX(ctx, c.stateKey(nonce), v, time.Duration(pxMillis(ttl))*time.Millisecond).Result()
	if err != nil {
		return fmt.Errorf("redis: oauth state put: %w", err)
	}
	if !ok {
		return fmt.Errorf("redis: oauth state put: nonce already stored: %w", store.ErrConflict)
	}
	return nil
}

// TakeState implements store.OAuthStates: one GETDEL (Redis 6.2 or later)
// takes the nonce, so that of several concurrent calls, on any number of
// processes, exactly one gets it; its data is returned if it had not
// expired at now (the caller's clock). Otherwise (unknown, expired, taken
// already) the error wraps store.ErrNotFound.
func (c *Client) TakeState(ctx context.Context, nonce string, now time.Time) (string, error) {
	if nonce == "" {
		return "", fmt.Errorf("redis: oauth state: %w", store.ErrNotFound)
	}
	v, err := c.rdb.GetDel(ctx, c.stateKey(nonce)).Result()
	if errors.Is(err, goredis.Nil) {
		return "", fmt.Errorf("redis: oauth state: %w", store.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("redis: oauth state take: %w", err)
	}
	exp, data, found := strings.Cut(v, ":")
	ms, perr := strconv.ParseInt(exp, 10, 64)
	if !found || perr != nil {
		return "", errors.New("redis: oauth state take: unexpected value in store")
	}
	if ms <= now.UnixMilli() {
		return "", fmt.Errorf("redis: oauth state: expired: %w", store.ErrNotFound)
	}
	return data, nil
}
