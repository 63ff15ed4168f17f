package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wxkit/wxkit/store"
)

// UpsertUser implements store.Users: it records a login of u at time at in
// one upsert of wxkit_users (RETURNING the stored row). A new user gets FirstSeen and LastSeen at; a
// known one gets LastSeen max(stored, at). With profile true the profile
// fields (nickname, headimgurl, sex, city, province, country) are written
// from u; with profile false (an snsapi_base login, which reads no profile)
// the stored ones are kept, and a new user has none. A non-empty UnionID is
// always written; an empty one never erases a stored one; so is PhoneNumber. It returns the
// user as stored afterwards. AppID and OpenID are required.
func (db *DB) UpsertUser(ctx context.Context, u *store.User, profile bool, at time.Time) (*store.User, error) {
	if u == nil || u.AppID == "" || u.OpenID == "" {
		return nil, errors.New("sqlite: user upsert: appid and openid are required")
	}
	nu := *u
	if !profile {
		nu.Nickname, nu.HeadImgURL, nu.Sex, nu.City, nu.Province, nu.Country = "", "", 0, "", "", ""
	}
	p := 0
	if profile {
		p = 1
	}
	out := store.User{AppID: nu.AppID, OpenID: nu.OpenID}
	var first, last int64
	err := db.QueryRowContext(ctx,
		`INSERT INTO wxkit_users (appid, openid, unionid, nickname, headimgurl, sex, city, province, country, first_seen, last_seen, phone_number)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?13)
		 ON CONFLICT (appid, openid) DO UPDATE SET
			unionid    = CASE WHEN excluded.unionid <> '' THEN excluded.unionid ELSE wxkit_users.unionid END,
			nickname   = CASE WHEN ?12 THEN excluded.nickname ELSE wxkit_users.nickname END,
			headimgurl = CASE WHEN ?12 THEN excluded.headimgurl ELSE wxkit_users.headimgurl END,
			sex        = CASE WHEN ?12 THEN excluded.sex ELSE wxkit_users.sex END,
			city       = CASE WHEN ?12 THEN excluded.city ELSE wxkit_users.city END,
			province   = CASE WHEN ?12 THEN excluded.province ELSE wxkit_users.province END,
			country    = CASE WHEN ?12 THEN excluded.country ELSE wxkit_users.country END,
			last_seen  = MAX(wxkit_users.last_seen, excluded.last_seen),
			phone_number = CASE WHEN excluded.phone_number <> '' THEN excluded.phone_number ELSE wxkit_users.phone_number END
		 RETURNING unionid, nickname, headimgurl, sex, city, province, country, first_seen, last_seen, phone_number`,
		nu.AppID, nu.OpenID, nu.UnionID, nu.Nickname, nu.HeadImgURL, nu.Sex, nu.City, nu.Province, nu.Country,
		at.UnixMilli(), at.UnixMilli(), p, nu.PhoneNumber).
		Scan(&out.UnionID, &out.Nickname, &out.HeadImgURL, &out.Sex, &out.City, &out.Province, &out.Country, &first, &last, &out.PhoneNumber)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user upsert: %w", err)
	}
	out.FirstSeen, out.LastSeen = time.UnixMilli(first), time.UnixMilli(last)
	return &out, nil
}

// User implements store.Users: the user openID of appID, or an error
// wrapping store.ErrNotFound.
func (db *DB) User(ctx context.Context, appID, openID string) (*store.User, error) {
	u := store.User{AppID: appID, OpenID: openID}
	var first, last int64
	err := db.QueryRowContext(ctx,
		`SELECT unionid, nickname, headimgurl, sex, city, province, country, first_seen, last_seen, phone_number
		 FROM wxkit_users WHERE appid = ? AND openid = ?`, appID, openID).
		Scan(&u.UnionID, &u.Nickname, &u.HeadImgURL, &u.Sex, &u.City, &u.Province, &u.Country, &first, &last, &u.PhoneNumber)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: user: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: user get: %w", err)
	}
	u.FirstSeen, u.LastSeen = time.UnixMilli(first), time.UnixMilli(last)
	return &u, nil
}
