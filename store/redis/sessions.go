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

// Session is a web-login session: the user (AppID, OpenID) that the holder
// of the session cookie is, until Expires. User is an optional JSON document
// kept with the session (the gateway stores the user's profile there, so
// that any instance sharing the Redis can answer for the session even when
// its own user table has never seen the user).
type Session struct {
	AppID   string          `json:"appid"`
	OpenID  string          `json:"openid"`
	Created time.Time       `json:"created"`
	Expires time.Time       `json:"expires"`
	User    json.RawMessage `json:"user,omitempty"`
}

// ErrSessionNotFound is returned by SessionStore.Get for an unknown or
// expired session id. It wraps store.ErrNotFound.
var ErrSessionNotFound = fmt.Errorf("redis: session not found: %w", store.ErrNotFound)

// SessionStore keeps web-login sessions in Redis, shared by every process
// using the same Redis and key prefix. A session is one key, "wxkit:session:"
// followed by the hex SHA-256 of the session id (the cookie value, which is
// never stored, so that a dump of Redis holds nothing that can be replayed as
// a cookie), holding the Session as JSON with a Redis expiry (PX) at
// Session.Expires. Safe for concurrent use.
type SessionStore struct {
	c *Client
}

// OAuthStateStore keeps the nonces of OAuth login states in Redis until they
// are taken (once) or expire, with a small payload (the return path when it
// does not fit in the state). A nonce is one key, "wxkit:oauthstate:" followed
// by the nonce, set with SET NX PX and taken with GETDEL, so that of several
// concurrent callbacks for one nonce, on any number of processes, exactly one
// wins it. Safe for concurrent use.
type OAuthStateStore struct {
	c *Client
}

// NewSessionStore returns a SessionStore on c.
func NewSessionStore(c *Client) *SessionStore { return &SessionStore{c: c} }

// NewOAuthStateStore returns an OAuthStateStore on c.
func NewOAuthStateStore(c *Client) *OAuthStateStore { return &OAuthStateStore{c: c} }

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
	return c.createSession(ctx, id, sess, sess.Expires.Sub(from))
}

// createSession stores v as the JSON of session id with a Redis expiry of
// ttl.
func (c *Client) createSession(ctx context.Context, id string, v any, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("redis: session create: the session has already expired")
	}
	b, err := json.Marshal(v)
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
	var sess store.Session
	if err := c.getSession(ctx, id, &sess); err != nil {
		return nil, err
	}
	if !now.Before(sess.Expires) {
		return nil, fmt.Errorf("redis: session: expired: %w", store.ErrNotFound)
	}
	return &sess, nil
}

// getSession decodes the JSON of session id into v.
func (c *Client) getSession(ctx context.Context, id string, v any) error {
	b, err := c.rdb.Get(ctx, c.sessionKey(id)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return fmt.Errorf("redis: session: %w", store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("redis: session get: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.New("redis: session get: unexpected value in store")
	}
	return nil
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
	return c.putState(ctx, nonce, data, expires, max(expires.Sub(c.now()), StateMinTTL))
}

func (c *Client) putState(ctx context.Context, nonce, data string, expires time.Time, ttl time.Duration) error {
	if nonce == "" {
		return errors.New("redis: oauth state put: empty nonce")
	}
	// The expiry is in the value so that TakeState can check the caller's
	// clock as well as Redis's.
	v := strconv.FormatInt(expires.UnixMilli(), 10) + ":" + data
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

// Create stores sess under id (the random value of the cookie, which is not
// stored itself) with a Redis expiry of sess.Expires - now, now being the
// caller's clock. It fails when id, AppID or OpenID is empty, when the
// session has already expired at now, or when id is in use.
func (s *SessionStore) Create(ctx context.Context, id string, sess Session, now time.Time) error {
	if id == "" || sess.AppID == "" || sess.OpenID == "" {
		return errors.New("redis: session create: id, appid and openid are required")
	}
	return s.c.createSession(ctx, id, sess, sess.Expires.Sub(now))
}

// Get returns the session id names if it exists and has not expired at now
// (the caller's clock, checked as well as Redis's own expiry), else
// ErrSessionNotFound.
func (s *SessionStore) Get(ctx context.Context, id string, now time.Time) (*Session, error) {
	var sess Session
	err := s.c.getSession(ctx, id, &sess)
	if errors.Is(err, store.ErrNotFound) || err == nil && !now.Before(sess.Expires) {
		return nil, ErrSessionNotFound
	}
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

// Delete removes the session id (logout). Deleting an unknown id is not an
// error.
func (s *SessionStore) Delete(ctx context.Context, id string) error {
	return s.c.DeleteSession(ctx, id)
}

// Put stores nonce with data until expires, with a Redis expiry of
// expires - now (now is the caller's clock). A nonce is random and stored
// once; storing it again, or storing one that has already expired, fails.
func (s *OAuthStateStore) Put(ctx context.Context, nonce, data string, expires, now time.Time) error {
	ttl := expires.Sub(now)
	if ttl <= 0 {
		return errors.New("redis: oauth state put: already expired")
	}
	return s.c.putState(ctx, nonce, data, expires, ttl)
}

// Take deletes nonce and returns its data with ok true if it was stored and
// had not expired at now (the caller's clock); otherwise (unknown, expired,
// taken already) ok is false. It is one GETDEL (Redis 6.2 or later), so of
// several concurrent calls for one nonce exactly one gets ok.
func (s *OAuthStateStore) Take(ctx context.Context, nonce string, now time.Time) (data string, ok bool, err error) {
	data, err = s.c.TakeState(ctx, nonce, now)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return data, true, nil
}
