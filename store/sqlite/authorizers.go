package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wxkit/wxkit/store"
)

var _ store.Authorizers = (*DB)(nil)

// PutAuthorizer implements store.Authorizers in one upsert of
// wxkit_authorizers (migration 0008) that replaces every column but
// created_at. The refresh token is stored as given (the caller's
// ciphertext), as a BLOB that never expires.
func (db *DB) PutAuthorizer(ctx context.Context, a *store.Authorizer) error {
	if a == nil || a.ComponentAppID == "" || a.AppID == "" {
		return errors.New("sqlite: authorizer put: component appid and appid are required")
	}
	fi, err := marshalFuncInfo(a.FuncInfo)
	if err != nil {
		return fmt.Errorf("sqlite: authorizer put: %w", err)
	}
	_, err = db.ExecContext(ctx,
		`INSERT INTO wxkit_authorizers (component_appid, appid, refresh_token, func_info, nickname, user_name, authorized, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (component_appid, appid) DO UPDATE SET
			refresh_token = excluded.refresh_token,
			func_info     = excluded.func_info,
			nickname      = excluded.nickname,
			user_name     = excluded.user_name,
			authorized    = excluded.authorized,
			updated_at    = excluded.updated_at`,
		a.ComponentAppID, a.AppID, nonNil(a.RefreshToken), fi, a.Nickname, a.UserName, a.Authorized,
		a.Created.UnixMilli(), a.Updated.UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlite: authorizer put: %w", err)
	}
	return nil
}

const authorizerColumns = `component_appid, appid, refresh_token, func_info, nickname, user_name, authorized, created_at, updated_at`

// Authorizer implements store.Authorizers.
func (db *DB) Authorizer(ctx context.Context, componentAppID, appID string) (*store.Authorizer, error) {
	row := db.QueryRowContext(ctx,
		`SELECT `+authorizerColumns+` FROM wxkit_authorizers WHERE component_appid = ? AND appid = ?`,
		componentAppID, appID)
	a, err := scanAuthorizer(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: authorizer: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: authorizer get: %w", err)
	}
	return a, nil
}

// ListAuthorizers implements store.Authorizers.
func (db *DB) ListAuthorizers(ctx context.Context, componentAppID string) ([]*store.Authorizer, error) {
	rows, err := db.QueryContext(ctx,
		`SELECT `+authorizerColumns+` FROM wxkit_authorizers WHERE component_appid = ? ORDER BY appid`,
		componentAppID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: authorizer list: %w", err)
	}
	defer rows.Close()
	var out []*store.Authorizer
	for rows.Next() {
		a, err := scanAuthorizer(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: authorizer list: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: authorizer list: %w", err)
	}
	return out, nil
}

func scanAuthorizer(row interface{ Scan(...any) error }) (*store.Authorizer, error) {
	var a store.Authorizer
	var fi string
	var created, updated int64
	if err := row.Scan(&a.ComponentAppID, &a.AppID, &a.RefreshToken, &fi, &a.Nickname, &a.UserName, &a.Authorized, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(fi), &a.FuncInfo); err != nil {
		return nil, fmt.Errorf("func_info: %w", err)
	}
	a.Created, a.Updated = time.UnixMilli(created), time.UnixMilli(updated)
	return &a, nil
}

// marshalFuncInfo encodes permission-set ids as a JSON array ("[]" for none).
func marshalFuncInfo(ids []int) (string, error) {
	if ids == nil {
		ids = []int{}
	}
	b, err := json.Marshal(ids)
	return string(b), err
}
