package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wxkit/wxkit/token"
)

// TokenStore is the token.Store (and token.ValueDeleter) view of a DB,
// returned by DB.TokenStore. Tokens are rows of wxkit_tokens (expires_at
// NULL for a token without expiry); leases are rows of wxkit_token_locks
// holding a random holder id. Lock is one INSERT … ON CONFLICT DO UPDATE …
// WHERE the lease has ended, so of concurrent Locks on any number of
// instances exactly one gets the row; unlock deletes the row only while it
// still names its holder, so a holder whose lease ran out cannot release
// its successor's. A holder that dies leaves its lease to expire at ttl.
// Expiry is judged on the DB's clock (WithClock). Safe for concurrent use.
type TokenStore struct {
	db *DB
}

var (
	_ token.Store        = (*TokenStore)(nil)
	_ token.ValueDeleter = (*TokenStore)(nil)
)

// TokenStore returns the token store of db.
func (db *DB) TokenStore() *TokenStore { return &TokenStore{db: db} }

// Get implements token.Store.
func (s *TokenStore) Get(ctx context.Context, key string) (*token.Token, error) {
	var t token.Token
	var exp *time.Time
	err := s.db.pool.QueryRow(ctx,
		`SELECT value, expires_at FROM wxkit_tokens WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)`,
		key, s.db.now()).Scan(&t.Value, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, token.ErrNotFound
	}
	if err != nil {
		return nil, wrap("token get "+quote(key), err)
	}
	if exp != nil {
		t.Expiry = *exp
	}
	return &t, nil
}

// Set implements token.Store. A token that has expired on the DB's clock
// deletes key.
func (s *TokenStore) Set(ctx context.Context, key string, t *token.Token) error {
	if t == nil {
		return errors.New("postgres: token set: nil token")
	}
	if !t.Expiry.IsZero() && !s.db.now().Before(t.Expiry) {
		return s.Delete(ctx, key)
	}
	_, err := s.db.pool.Exec(ctx,
		`INSERT INTO wxkit_tokens (key, value, expires_at) VALUES ($1, $2, $3)
		 ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
		key, t.Value, nullTime(t.Expiry))
	if err != nil {
		return wrap("token set "+quote(key), err)
	}
	return nil
}

// Delete implements token.Store.
func (s *TokenStore) Delete(ctx context.Context, key string) error {
	if _, err := s.db.pool.Exec(ctx, `DELETE FROM wxkit_tokens WHERE key = $1`, key); err != nil {
		return wrap("token delete "+quote(key), err)
	}
	return nil
}

// DeleteValue implements token.ValueDeleter in one DELETE … WHERE value.
func (s *TokenStore) DeleteValue(ctx context.Context, key, value string) (bool, error) {
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM wxkit_tokens WHERE key = $1 AND value = $2`, key, value)
	if err != nil {
		return false, wrap("token delete "+quote(key), err)
	}
	return tag.RowsAffected() > 0, nil
}

// Lock implements token.Store: it takes the lease row of key if it is
// absent or its lease has ended, else returns token.ErrLocked.
func (s *TokenStore) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	if ttl <= 0 {
		return nil, errors.New("postgres: token lock: ttl must be positive")
	}
	holder := token.NewHolderID()
	now := s.db.now()
	tag, err := s.db.pool.Exec(ctx,
		`INSERT INTO wxkit_token_locks (key, holder, expires_at) VALUES ($1, $2, $3)
		 ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		 WHERE wxkit_token_locks.expires_at <= $4`,
		key, holder, now.Add(ttl), now)
	if err != nil {
		return nil, wrap("token lock "+quote(key), err)
	}
	if tag.RowsAffected() == 0 {
		return nil, token.ErrLocked
	}
	return func(ctx context.Context) error {
		if _, err := s.db.pool.Exec(ctx,
			`DELETE FROM wxkit_token_locks WHERE key = $1 AND holder = $2`, key, holder); err != nil {
			return wrap("token unlock "+quote(key), err)
		}
		return nil
	}, nil
}
