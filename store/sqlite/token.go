package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wxkit/wxkit/token"
)

// TokenStore is a token.Store in SQLite, safe across processes sharing the
// file. Tokens live in wxkit_tokens and leases in wxkit_token_locks, each row
// with an expiry in Unix milliseconds (0: none); a lease is taken by one
// conditional upsert and released by a delete that names its holder, so a
// holder whose lease has expired cannot release its successor's.
type TokenStore struct {
	db  *DB
	now func() time.Time
}

var (
	_ token.Store        = (*TokenStore)(nil)
	_ token.ValueDeleter = (*TokenStore)(nil)
)

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Get implements token.Store.
func (s *TokenStore) Get(ctx context.Context, key string) (*token.Token, error) {
	var v string
	var exp int64
	err := s.db.QueryRowContext(ctx,
		`SELECT value, expires_at FROM wxkit_tokens WHERE key = ? AND (expires_at = 0 OR expires_at > ?)`,
		key, ms(s.now())).Scan(&v, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, token.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: token get %q: %w", key, err)
	}
	t := &token.Token{Value: v}
	if exp != 0 {
		t.Expiry = time.UnixMilli(exp)
	}
	return t, nil
}

// Set implements token.Store.
func (s *TokenStore) Set(ctx context.Context, key string, t *token.Token) error {
	if t == nil {
		return errors.New("sqlite: token set: nil token")
	}
	if !t.Expiry.IsZero() && !s.now().Before(t.Expiry) {
		return s.Delete(ctx, key)
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO wxkit_tokens (key, value, expires_at) VALUES (?, ?, ?)
		 ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
		key, t.Value, ms(t.Expiry))
	if err != nil {
		return fmt.Errorf("sqlite: token set %q: %w", key, err)
	}
	return nil
}

// Delete implements token.Store.
func (s *TokenStore) Delete(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM wxkit_tokens WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlite: token delete %q: %w", key, err)
	}
	return nil
}

// DeleteValue implements token.ValueDeleter in one statement.
func (s *TokenStore) DeleteValue(ctx context.Context, key, value string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM wxkit_tokens WHERE key = ? AND value = ?`, key, value)
	if err != nil {
		return false, fmt.Errorf("sqlite: token delete %q: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: token delete %q: %w", key, err)
	}
	return n > 0, nil
}

// Lock implements token.Store: one upsert that takes the row if it is absent
// or its lease has ended.
func (s *TokenStore) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	if ttl <= 0 {
		return nil, errors.New("sqlite: token lock: ttl must be positive")
	}
	holder := token.NewHolderID()
	now := s.now()
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO wxkit_token_locks (key, holder, expires_at) VALUES (?, ?, ?)
		 ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		 WHERE wxkit_token_locks.expires_at <= ?`,
		key, holder, ms(now.Add(ttl)), ms(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: token lock %q: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, fmt.Errorf("sqlite: token lock %q: %w", key, err)
	}
	if n == 0 {
		return nil, token.ErrLocked
	}
	return func(ctx context.Context) error {
		if _, err := s.db.ExecContext(ctx,
			`DELETE FROM wxkit_token_locks WHERE key = ? AND holder = ?`, key, holder); err != nil {
			return fmt.Errorf("sqlite: token unlock %q: %w", key, err)
		}
		return nil
	}, nil
}
