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
// expired session id.
var ErrSessionNotFound = errors.New("redis: session not found")

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
func (s *SessionStore) sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return s.c.key(sessionPrefix + hex.EncodeToString(sum[:]))
}

// Create stores sess under id (the random value of the cookie, which is not
// stored itself) with a Redis expiry of sess.Expires - now, now being the
// caller's clock. It fails when id, AppID or OpenID is empty, when the
// session has already expired at now, or when id is in use.
func (s *SessionStore) Create(ctx context.Context, id string, sess Session, now time.Time) error {
	if id == "" || sess.AppID == "" || sess.OpenID == "" {
		return errors.New("redis: session create: id, appid and openid are required")
	}
	ttl := sess.Expires.Sub(now)
	if ttl <= 0 {
		return errors.New("redis: session create: the session has already expired")
	}
	v, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("redis: session create: %w", err)
	}
	ok, err := s.c.rdb.SetNX(ctx, s.sessionKey(id), v, time.Duration(pxMillis(ttl))*time.Millisecond).Result()
	if err != nil {
		return fmt.Errorf("redis: session create: %w", err)
	}
	if !ok {
		return errors.New("redis: session create: session id already in use")
	}
	return nil
}

// Get returns the session id names if it exists and has not expired at now
// (the caller's clock, checked as well as Redis's own expiry), else
// ErrSessionNotFound.
func (s *SessionStore) Get(ctx context.Context, id string, now time.Time) (*Session, error) {
	v, err := s.c.rdb.Get(ctx, s.sessionKey(id)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, ErrSessionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("redis: session get: %w", err)
	}
	var sess Session
	if err := json.Unmarshal(v, &sess); err != nil {
		return nil, errors.New("redis: session get: unexpected value in store")
	}
	if !now.Before(sess.Expires) {
		return nil, ErrSessionNotFound
	}
	return &sess, nil
}

// Delete removes the session id (logout). Deleting an unknown id is not an
// error.
func (s *SessionStore) Delete(ctx context.Context, id string) error {
	if err := s.c.rdb.Del(ctx, s.sessionKey(id)).Err(); err != nil {
		return fmt.Errorf("redis: session delete: %w", err)
	}
	return nil
}

// Put stores nonce with data until expires, with a Redis expiry of
// expires - now (now is the caller's clock). A nonce is random and stored
// once; storing it again, or storing one that has already expired, fails.
func (s *OAuthStateStore) Put(ctx context.Context, nonce, data string, expires, now time.Time) error {
	if nonce == "" {
		return errors.New("redis: oauth state put: empty nonce")
	}
	ttl := expires.Sub(now)
	if ttl <= 0 {
		return errors.New("redis: oauth state put: already expired")
	}
	// The value is "<expires, Unix ms>:<data>", so that Take can check the
	// caller's clock as well as Redis's.
	v := strconv.FormatInt(expires.UnixMilli(), 10) + ":" + data
	ok, err := s.c.rdb.SetNX(ctx, s.c.key(oauthStatePrefix+nonce), v, time.Duration(pxMillis(ttl))*time.Millisecond).Result()
	if err != nil {
		return fmt.Errorf("redis: oauth state put: %w", err)
	}
	if !ok {
		return errors.New("redis: oauth state put: nonce already stored")
	}
	return nil
}

// Take deletes nonce and returns its data with ok true if it was stored and
// had not expired at now (the caller's clock); otherwise (unknown, expired,
// taken already) ok is false. It is one GETDEL (Redis 6.2 or later), so of
// several concurrent calls for one nonce exactly one gets ok.
func (s *OAuthStateStore) Take(ctx context.Context, nonce string, now time.Time) (data string, ok bool, err error) {
	if nonce == "" {
		return "", false, nil
	}
	v, err := s.c.rdb.GetDel(ctx, s.c.key(oauthStatePrefix+nonce)).Result()
	if errors.Is(err, goredis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("redis: oauth state take: %w", err)
	}
	exp, data, found := strings.Cut(v, ":")
	ms, perr := strconv.ParseInt(exp, 10, 64)
	if !found || perr != nil {
		return "", false, errors.New("redis: oauth state take: unexpected value in store")
	}
	if ms <= now.UnixMilli() {
		return "", false, nil
	}
	return data, true, nil
}
