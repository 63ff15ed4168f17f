package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/wxkit/wxkit/store"
)

// Session is a login session (store.Session).
type Session = store.Session

// ErrSessionNotFound is returned by SessionStore.Get for an unknown or
// expired session id. It wraps store.ErrNotFound.
var ErrSessionNotFound = fmt.Errorf("sqlite: session not found: %w", store.ErrNotFound)

// ErrStateNotFound is returned by OAuthStateStore.Consume for a nonce that
// was never stored, has expired or was consumed already. It wraps
// store.ErrNotFound.
var ErrStateNotFound = fmt.Errorf("sqlite: oauth state not found or already used: %w", store.ErrNotFound)

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

// NewSessionStore applies the missing migrations (see DB.Migrate) and
// returns the store.
func NewSessionStore(ctx context.Context, db *DB) (*SessionStore, error) {
	if db == nil {
		return nil, errors.New("sqlite: NewSessionStore: nil DB")
	}
	if err := db.migrateNow(ctx); err != nil {
		return nil, err
	}
	return &SessionStore{db: db}, nil
}

// NewOAuthStateStore applies the missing migrations (see DB.Migrate) and
// returns the store.
func NewOAuthStateStore(ctx context.Context, db *DB) (*OAuthStateStore, error) {
	if db == nil {
		return nil, errors.New("sqlite: NewOAuthStateStore: nil DB")
	}
	if err := db.migrateNow(ctx); err != nil {
		return nil, err
	}
	return &OAuthStateStore{db: db}, nil
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// Create stores session sess under id (DB.CreateSession). now is the
// caller's clock, used for sweeping expired sessions every SweepEvery
// creations.
func (s *SessionStore) Create(ctx context.Context, id string, sess Session, now time.Time) error {
	if s.created.Add(1)%SweepEvery == 0 {
		s.Sweep(ctx, now)
	}
	return s.db.CreateSession(ctx, id, &sess)
}

// Get returns the session id names if it has not expired at now
// (DB.Session), else ErrSessionNotFound.
func (s *SessionStore) Get(ctx context.Context, id string, now time.Time) (*Session, error) {
	sess, err := s.db.Session(ctx, id, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrSessionNotFound
	}
	return sess, err
}

// Delete removes the session id (logout). Deleting an unknown id is not an
// error.
func (s *SessionStore) Delete(ctx context.Context, id string) error {
	return s.db.DeleteSession(ctx, id)
}

// Sweep deletes the sessions expired at now and returns how many.
func (s *SessionStore) Sweep(ctx context.Context, now time.Time) (int64, error) {
	return s.db.sweepSessions(ctx, now)
}

// Put stores nonce with data until expires (DB.PutState). now is the
// caller's clock, used for sweeping expired nonces every SweepEvery calls.
func (s *OAuthStateStore) Put(ctx context.Context, nonce, data string, expires, now time.Time) error {
	if s.stored.Add(1)%SweepEvery == 0 {
		s.Sweep(ctx, now)
	}
	return s.db.putState(ctx, nonce, data, expires)
}

// Consume deletes nonce and returns its data if it was stored and had not
// expired at now (DB.TakeState); otherwise (unknown, expired, consumed
// already) it returns ErrStateNotFound. Of several concurrent calls for one
// nonce, one wins.
func (s *OAuthStateStore) Consume(ctx context.Context, nonce string, now time.Time) (string, error) {
	data, err := s.db.TakeState(ctx, nonce, now)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrStateNotFound
	}
	return data, err
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
	return s.db.sweepStates(ctx, now)
}

// CreateSession implements store.Sessions: it inserts sess into
// wxkit_sessions under the hex SHA-256 of id (the id itself, the client's
// token, is never stored), with sess.User as JSON. id, AppID and OpenID are
// required; an id in use gives an error wrapping store.ErrConflict. Every
// SweepEvery calls, the sessions expired at sess.Created (the caller's
// clock at login) are deleted first.
func (db *DB) CreateSession(ctx context.Context, id string, sess *store.Session) error {
	if id == "" || sess == nil || sess.AppID == "" || sess.OpenID == "" {
		return errors.New("sqlite: session create: id, appid and openid are required")
	}
	if db.sessionsCreated.Add(1)%SweepEvery == 0 && !sess.Created.IsZero() {
		db.sweepSessions(ctx, sess.Created)
	}
	var user any // NULL without a user
	if sess.User != nil {
		b, err := json.Marshal(sess.User)
		if err != nil {
			return fmt.Errorf("sqlite: session create: %w", err)
		}
		user = string(b)
	}
	res, err := db.ExecContext(ctx,
		`INSERT INTO wxkit_sessions (id_hash, appid, openid, created_at, expires_at, user_json) VALUES (?, ?, ?, ?, ?, ?)
		 ON CONFLICT (id_hash) DO NOTHING`,
		hashID(id), sess.AppID, sess.OpenID, sess.Created.UnixMilli(), sess.Expires.UnixMilli(), user)
	if err != nil {
		return fmt.Errorf("sqlite: session create: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: session create: %w", err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: session create: session id in use: %w", store.ErrConflict)
	}
	return nil
}

// Session implements store.Sessions: the session of id if it has not
// expired at now (Expires after now), else an error wrapping
// store.ErrNotFound.
func (db *DB) Session(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	var sess store.Session
	var created, expires int64
	var user sql.NullString
	err := db.QueryRowContext(ctx,
		`SELECT appid, openid, created_at, expires_at, user_json FROM wxkit_sessions WHERE id_hash = ? AND expires_at > ?`,
		hashID(id), now.UnixMilli()).Scan(&sess.AppID, &sess.OpenID, &created, &expires, &user)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: session: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: session get: %w", err)
	}
	sess.Created, sess.Expires = time.UnixMilli(created), time.UnixMilli(expires)
	if user.Valid {
		sess.User = new(store.User)
		if err := json.Unmarshal([]byte(user.String), sess.User); err != nil {
			return nil, fmt.Errorf("sqlite: session get: stored user: %w", err)
		}
	}
	return &sess, nil
}

// DeleteSession implements store.Sessions: it removes the session of id;
// an unknown id is not an error.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM wxkit_sessions WHERE id_hash = ?`, hashID(id)); err != nil {
		return fmt.Errorf("sqlite: session delete: %w", err)
	}
	return nil
}

func (db *DB) sweepSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.ExecContext(ctx, `DELETE FROM wxkit_sessions WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: session sweep: %w", err)
	}
	return res.RowsAffected()
}

// PutState implements store.OAuthStates: it inserts nonce with data and
// its expiry into wxkit_oauth_states. A nonce already stored gives an error
// wrapping store.ErrConflict. Every SweepEvery calls, the nonces expired by
// the DB's clock are deleted first.
func (db *DB) PutState(ctx context.Context, nonce, data string, expires time.Time) error {
	if db.statesPut.Add(1)%SweepEvery == 0 {
		db.sweepStates(ctx, db.now())
	}
	return db.putState(ctx, nonce, data, expires)
}

func (db *DB) putState(ctx context.Context, nonce, data string, expires time.Time) error {
	if nonce == "" {
		return errors.New("sqlite: oauth state put: empty nonce")
	}
	res, err := db.ExecContext(ctx,
		`INSERT INTO wxkit_oauth_states (nonce, data, expires_at) VALUES (?, ?, ?) ON CONFLICT (nonce) DO NOTHING`,
		nonce, data, expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlite: oauth state put: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: oauth state put: %w", err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: oauth state put: nonce already stored: %w", store.ErrConflict)
	}
	return nil
}

// TakeState implements store.OAuthStates: one DELETE … RETURNING takes the
// nonce, so that of several concurrent calls (in any process sharing the
// file) exactly one gets its row; the data is returned if the nonce had not
// expired at now. Otherwise (unknown, expired, taken already) the error
// wraps store.ErrNotFound.
func (db *DB) TakeState(ctx context.Context, nonce string, now time.Time) (string, error) {
	var data string
	var expires int64
	err := db.QueryRowContext(ctx,
		`DELETE FROM wxkit_oauth_states WHERE nonce = ? RETURNING data, expires_at`, nonce).Scan(&data, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlite: oauth state: %w", store.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: oauth state take: %w", err)
	}
	if expires <= now.UnixMilli() {
		return "", fmt.Errorf("sqlite: oauth state: expired: %w", store.ErrNotFound)
	}
	return data, nil
}

func (db *DB) sweepStates(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.ExecContext(ctx, `DELETE FROM wxkit_oauth_states WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: oauth state sweep: %w", err)
	}
	return res.RowsAffected()
}
