package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/wxkit/wxkit/store"
)

var _ store.Authorizers = (*DB)(nil)

const authorizerColumns = `component_appid, appid, refresh_token, func_info, nickname, user_name, authorized, created_at, updated_at`

// PutAuthorizer implements store.Authorizers in one INSERT … ON CONFLICT DO
// UPDATE on wxkit_authorizers (migration 0005) that replaces every column
// but created_at, so that concurrent puts of one authorizer leave one row,
// whole. The refresh token is stored as given (the caller's ciphertext), in
// a bytea that never expires.
func (db *DB) PutAuthorizer(ctx context.Context, a *store.Authorizer) error {
	if a == nil || a.ComponentAppID == "" || a.AppID == "" {
		return errors.New("postgres: put authorizer: component appid and appid are required")
	}
	rt, fi := a.RefreshToken, a.FuncInfo
	if rt == nil {
		rt = []byte{}
	}
	if fi == nil {
		fi = []int{}
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO wxkit_authorizers (`+authorizerColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (component_appid, appid) DO UPDATE SET
			refresh_token = excluded.refresh_token,
			func_info     = excluded.func_info,
			nickname      = excluded.nickname,
			user_name     = excluded.user_name,
			authorized    = excluded.authorized,
			updated_at    = excluded.updated_at`,
		a.ComponentAppID, a.AppID, rt, fi, a.Nickname, a.UserName, a.Authorized, a.Created, a.Updated)
	if err != nil {
		return wrap("put authorizer", err)
	}
	return nil
}

// Authorizer implements store.Authorizers.
func (db *DB) Authorizer(ctx context.Context, componentAppID, appID string) (*store.Authorizer, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+authorizerColumns+` FROM wxkit_authorizers
		WHERE component_appid = $1 AND appid = $2`, componentAppID, appID)
	a, err := scanAuthorizer(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, wrap("authorizer", err)
	}
	return a, nil
}

// ListAuthorizers implements store.Authorizers.
func (db *DB) ListAuthorizers(ctx context.Context, componentAppID string) ([]*store.Authorizer, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+authorizerColumns+` FROM wxkit_authorizers
		WHERE component_appid = $1 ORDER BY appid COLLATE "C"`, componentAppID)
	if err != nil {
		return nil, wrap("list authorizers", err)
	}
	defer rows.Close()
	var out []*store.Authorizer
	for rows.Next() {
		a, err := scanAuthorizer(rows)
		if err != nil {
			return nil, wrap("list authorizers", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list authorizers", err)
	}
	return out, nil
}

func scanAuthorizer(row pgx.Row) (*store.Authorizer, error) {
	var a store.Authorizer
	err := row.Scan(&a.ComponentAppID, &a.AppID, &a.RefreshToken, &a.FuncInfo, &a.Nickname, &a.UserName,
		&a.Authorized, &a.Created, &a.Updated)
	if err != nil {
		return nil, err
	}
	return &a, nil
}
