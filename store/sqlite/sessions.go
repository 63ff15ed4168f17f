package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wxkit/wxkit/store"
)

// hashID is the key of session id in wxkit_sessions: its hex SHA-256.
func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// CreateSession implements store.Sessions: it inserts sess into
// wxkit_sessions under the hex SHA-256 of id (the id itself, the client's
// token, is never stored), with sess.User as JSON and
// sess.SealedSessionKey as given. id, AppID and OpenID are
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
		`INSERT INTO wxkit_sessions (id_hash, appid, openid, created_at, expires_at, user_json, sealed_session_key) VALUES (?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (id_hash) DO NOTHING`,
		hashID(id), sess.AppID, sess.OpenID, sess.Created.UnixMilli(), sess.Expires.UnixMilli(), user, sess.SealedSessionKey)
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
		`SELECT appid, openid, created_at, expires_at, user_json, sealed_session_key FROM wxkit_sessions WHERE id_hash = ? AND expires_at > ?`,
		hashID(id), now.UnixMilli()).Scan(&sess.AppID, &sess.OpenID, &created, &expires, &user, &sess.SealedSessionKey)
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
