package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wxkit/wxkit/store"
)

// hashID returns the hex SHA-256 of a session id, the only form in which
// the id is stored.
func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// CreateSession implements store.Sessions: one row of wxkit_sessions keyed
// by the hex SHA-256 of id, with s.User as JSON and s.SealedSessionKey as
// given. An id already stored is
// store.ErrConflict.
func (db *DB) CreateSession(ctx context.Context, id string, s *store.Session) error {
	if id == "" || s == nil || s.AppID == "" || s.OpenID == "" {
		return errors.New("postgres: create session: id, appid and openid are required")
	}
	var user []byte
	if s.User != nil {
		var err error
		if user, err = json.Marshal(s.User); err != nil {
			return fmt.Errorf("postgres: create session: %w", err)
		}
	}
	_, err := db.pool.Exec(ctx,
		`INSERT INTO wxkit_sessions (id_hash, appid, openid, created_at, expires_at, user_json, sealed_session_key)
		 VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		hashID(id), s.AppID, s.OpenID, s.Created, s.Expires, user, s.SealedSessionKey)
	if isCode(err, codeUniqueViolation) {
		return fmt.Errorf("postgres: create session: id in use: %w", store.ErrConflict)
	}
	if err != nil {
		return wrap("create session", err)
	}
	return nil
}

// Session implements store.Sessions. Every SweepEvery calls on a DB it
// first deletes sessions expired at now (see Sweep).
func (db *DB) Session(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	if db.sessionReads.Add(1)%SweepEvery == 0 {
		db.sweepSome(ctx, "wxkit_sessions", now)
	}
	var s store.Session
	var user []byte
	err := db.pool.QueryRow(ctx,
		`SELECT appid, openid, created_at, expires_at, user_json, sealed_session_key FROM wxkit_sessions
		 WHERE id_hash = $1 AND expires_at > $2`, hashID(id), now).
		Scan(&s.AppID, &s.OpenID, &s.Created, &s.Expires, &user, &s.SealedSessionKey)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, wrap("session", err)
	}
	if len(user) > 0 {
		s.User = new(store.User)
		if err := json.Unmarshal(user, s.User); err != nil {
			return nil, fmt.Errorf("postgres: session: stored user: %w", err)
		}
	}
	return &s, nil
}

// DeleteSession implements store.Sessions.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM wxkit_sessions WHERE id_hash = $1`, hashID(id)); err != nil {
		return wrap("delete session", err)
	}
	return nil
}

// PutState implements store.OAuthStates: one row of wxkit_oauth_states. A
// nonce already stored is store.ErrConflict.
func (db *DB) PutState(ctx context.Context, nonce, data string, expires time.Time) error {
	if nonce == "" {
		return errors.New("postgres: put state: empty nonce")
	}
	_, err := db.pool.Exec(ctx,
		`INSERT INTO wxkit_oauth_states (nonce, data, expires_at) VALUES ($1, $2, $3)`, nonce, data, expires)
	if isCode(err, codeUniqueViolation) {
		return fmt.Errorf("postgres: put state: nonce in use: %w", store.ErrConflict)
	}
	if err != nil {
		return wrap("put state", err)
	}
	return nil
}

// TakeState implements store.OAuthStates with one DELETE … RETURNING, so
// that of concurrent takers exactly one gets the row; an expired nonce is
// deleted too, and answers store.ErrNotFound. Every SweepEvery calls on a
// DB it first deletes states expired at now (see Sweep).
func (db *DB) TakeState(ctx context.Context, nonce string, now time.Time) (string, error) {
	if db.stateTakes.Add(1)%SweepEvery == 0 {
		db.sweepSome(ctx, "wxkit_oauth_states", now)
	}
	var data string
	var expires time.Time
	err := db.pool.QueryRow(ctx,
		`DELETE FROM wxkit_oauth_states WHERE nonce = $1 RETURNING data, expires_at`, nonce).Scan(&data, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", wrap("take state", err)
	}
	if !now.Before(expires) {
		return "", store.ErrNotFound
	}
	return data, nil
}
