package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Session is a web-login session: the user (AppID, OpenID) that the holder
// of the session cookie is, until Expires.
type Session struct {
	AppID   string
	OpenID  string
	Created time.Time
	Expires time.Time
}

// ErrSessionNotFound is returned by SessionStore.Get for an unknown or
// expired session id.
var ErrSessionNotFound = errors.New("sqlite: session not found")

// ErrStateNotFound is returned by OAuthStateStore.Consume for a nonce that
// was never stored, has expired or was consumed already.
var ErrStateNotFound = errors.New("sqlite: oauth state not found or already used")

// SessionStore keeps web-login sessions in wxkit_sessions. Rows are keyed by
// the SHA-256 of the session id, so that the table (a backup, a leaked
// file) holds nothing that can be replayed as a cookie. Expired rows are
// swept every SweepEvery creations. Safe for concurrent use and across
// processes.
type SessionStore struct {
	db      *DB
	created atomic.Uint64
}

// OAuthStateStore keeps the nonces of OAuth login states in
// wxkit_oauth_states until they are consumed (once) or expire, with a small
// payload (the return path when it does not fit in the state). Safe for
// concurrent use and across processes: a nonce is consumed by one DELETE,
// so exactly one of several concurrent callbacks wins it.
type OAuthStateStore struct {
	db     *DB
	stored atomic.Uint64
}

// sessionSchema is the DDL of the session and OAuth state stores. Times are
// Unix milliseconds.
var sessionSchema = []string{
	`CREATE TABLE IF NOT EXISTS wxkit_sessions (
		id_hash    TEXT PRIMARY KEY, -- hex SHA-256 of the session id
		appid      TEXT NOT NULL,
		openid     TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS wxkit_sessions_expires ON wxkit_sessions (expires_at)`,
	`CREATE TABLE IF NOT EXISTS wxkit_oauth_states (
		nonce      TEXT PRIMARY KEY,
		data       TEXT NOT NULL,
		expires_at INTEGER NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS wxkit_oauth_states_expires ON wxkit_oauth_states (expires_at)`,
}

// NewSessionStore creates the session tables if needed and returns the
// store.
func NewSessionStore(ctx context.Context, db *DB) (*SessionStore, error) {
	if db == nil {
		return nil, errors.New("sqlite: NewSessionStore: nil DB")
	}
	if err := db.Migrate(ctx, sessionSchema...); err != nil {
		return nil, err
	}
	return &SessionStore{db: db}, nil
}

// NewOAuthStateStore creates the state table if needed and returns the
// store.
func NewOAuthStateStore(ctx context.Context, db *DB) (*OAuthStateStore, error) {
	if db == nil {
		return nil, errors.New("sqlite: NewOAuthStateStore: nil DB")
	}
	if err := db.Migrate(ctx, sessionSchema...); err != nil {
		return nil, err
	}
	return &OAuthStateStore{db: db}, nil
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// Create stores session s under id (the random value of the cookie, which
// is not stored itself). now is the caller's clock, used for sweeping.
func (s *SessionStore) Create(ctx context.Context, id string, sess Session, now time.Time) error {
	if id == "" || sess.AppID == "" || sess.OpenID == "" {
		return errors.New("sqlite: session create: id, appid and openid are required")
	}
	if s.created.Add(1)%SweepEvery == 0 {
		s.Sweep(ctx, now)
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO wxkit_sessions (id_hash, appid, openid, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		hashID(id), sess.AppID, sess.OpenID, sess.Created.UnixMilli(), sess.Expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlite: session create: %w", err)
	}
	return nil
}

// Get returns the session id names if it has not expired at now, else
// ErrSessionNotFound.
func (s *SessionStore) Get(ctx context.Context, id string, now time.Time) (*Session, error) {
	var sess Session
	var created, expires int64
	err := s.db.QueryRowContext(ctx,
		`SELECT appid, openid, created_at, expires_at FROM wxkit_sessions WHERE id_hash = ? AND expires_at > ?`,
		hashID(id), now.UnixMilli()).Scan(&sess.AppID, &sess.OpenID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrSessionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: session get: %w", err)
	}
	sess.Created, sess.Expires = time.UnixMilli(created), time.UnixMilli(expires)
	return &sess, nil
}

// Delete removes the session id (logout). Deleting an unknown id is not an
// error.
func (s *SessionStore) Delete(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM wxkit_sessions WHERE id_hash = ?`, hashID(id)); err != nil {
		return fmt.Errorf("sqlite: session delete: %w", err)
	}
	return nil
}

// Sweep deletes the sessions expired at now and returns how many.
func (s *SessionStore) Sweep(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM wxkit_sessions WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: session sweep: %w", err)
	}
	return res.RowsAffected()
}

// Put stores nonce with data until expires. A nonce is random and stored
// once; storing it again fails. now is the caller's clock, used for
// sweeping expired nonces every SweepEvery calls.
func (s *OAuthStateStore) Put(ctx context.Context, nonce, data string, expires, now time.Time) error {
	if nonce == "" {
		return errors.New("sqlite: oauth state put: empty nonce")
	}
	if s.stored.Add(1)%SweepEvery == 0 {
		s.Sweep(ctx, now)
	}
	if _, err := s.db.ExecContext(ctx,
		`INSERT INTO wxkit_oauth_states (nonce, data, expires_at) VALUES (?, ?, ?)`,
		nonce, data, expires.UnixMilli()); err != nil {
		return fmt.Errorf("sqlite: oauth state put: %w", err)
	}
	return nil
}

// Consume deletes nonce and returns its data if it was stored and had not
// expired at now; otherwise (unknown, expired, consumed already) it returns
// ErrStateNotFound. Of several concurrent calls for one nonce, one wins.
func (s *OAuthStateStore) Consume(ctx context.Context, nonce string, now time.Time) (string, error) {
	var data string
	var expires int64
	err := s.db.QueryRowContext(ctx,
		`DELETE FROM wxkit_oauth_states WHERE nonce = ? RETURNING data, expires_at`, nonce).Scan(&data, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrStateNotFound
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: oauth state consume: %w", err)
	}
	if expires <= now.UnixMilli() {
		return "", ErrStateNotFound
	}
	return data, nil
}

// Take is Consume with the outcome as a flag: it deletes nonce and returns
// its data with ok true if it was stored and had not expired at now, and ok
// false (with a nil error) when it was unknown, expired or consumed already.
// Of several concurrent calls for one nonce, one gets ok.
func (s *OAuthStateStore) Take(ctx context.Context, nonce string, now time.Time) (data string, ok bool, err error) {
	data, err = s.Consume(ctx, nonce, now)
	if errors.Is(err, ErrStateNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return data, true, nil
}

// Sweep deletes the nonces expired at now and returns how many.
func (s *OAuthStateStore) Sweep(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM wxkit_oauth_states WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: oauth state sweep: %w", err)
	}
	return res.RowsAffected()
}
