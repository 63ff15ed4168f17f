package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wxkit/wxkit/store"
)

const userColumns = `appid, openid, unionid, nickname, headimgurl, sex, city, province, country, first_seen, last_seen, phone_number`

// UpsertUser implements store.Users in one INSERT … ON CONFLICT DO UPDATE
// … RETURNING on wxkit_users, so that concurrent logins of one user leave
// one row and each gets the row as its statement left it.
func (db *DB) UpsertUser(ctx context.Context, u *store.User, profile bool, at time.Time) (*store.User, error) {
	if u == nil || u.AppID == "" || u.OpenID == "" {
		return nil, errors.New("postgres: upsert user: appid and openid are required")
	}
	c := *u
	if !profile {
		c.Nickname, c.HeadImgURL, c.Sex, c.City, c.Province, c.Country = "", "", 0, "", "", ""
	}
	row := db.pool.QueryRow(ctx, `INSERT INTO wxkit_users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $12)
		ON CONFLICT (appid, openid) DO UPDATE SET
			unionid    = CASE WHEN excluded.unionid <> '' THEN excluded.unionid ELSE wxkit_users.unionid END,
			nickname   = CASE WHEN $11 THEN excluded.nickname ELSE wxkit_users.nickname END,
			headimgurl = CASE WHEN $11 THEN excluded.headimgurl ELSE wxkit_users.headimgurl END,
			sex        = CASE WHEN $11 THEN excluded.sex ELSE wxkit_users.sex END,
			city       = CASE WHEN $11 THEN excluded.city ELSE wxkit_users.city END,
			province   = CASE WHEN $11 THEN excluded.province ELSE wxkit_users.province END,
			country    = CASE WHEN $11 THEN excluded.country ELSE wxkit_users.country END,
			last_seen  = GREATEST(wxkit_users.last_seen, excluded.last_seen),
			phone_number = CASE WHEN excluded.phone_number <> '' THEN excluded.phone_number ELSE wxkit_users.phone_number END
		RETURNING `+userColumns,
		c.AppID, c.OpenID, c.UnionID, c.Nickname, c.HeadImgURL, c.Sex, c.City, c.Province, c.Country, at, profile, c.PhoneNumber)
	got, err := scanUser(row)
	if err != nil {
		return nil, wrap("upsert user", err)
	}
	return got, nil
}

// User implements store.Users.
func (db *DB) User(ctx context.Context, appID, openID string) (*store.User, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM wxkit_users WHERE appid = $1 AND openid = $2`, appID, openID)
	u, err := scanUser(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, wrap("user", err)
	}
	return u, nil
}

func scanUser(row pgx.Row) (*store.User, error) {
	var u store.User
	err := row.Scan(&u.AppID, &u.OpenID, &u.UnionID, &u.Nickname, &u.HeadImgURL, &u.Sex,
		&u.City, &u.Province, &u.Country, &u.FirstSeen, &u.LastSeen, &u.PhoneNumber)
	if err != nil {
		return nil, err
	}
	return &u, nil
}
