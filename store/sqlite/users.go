package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// User is a WeChat user as web login (OAuth) saw them, per app: the openid
// always, the unionid when WeChat gave one, and the profile fields only
// after an snsapi_userinfo login. Times are the first and the latest login.
type User struct {
	AppID      string    `json:"appid"`
	OpenID     string    `json:"openid"`
	UnionID    string    `json:"unionid,omitempty"`
	Nickname   string    `json:"nickname,omitempty"`
	HeadImgURL string    `json:"headimgurl,omitempty"`
	Sex        int       `json:"sex"` // 0 unknown, 1 male, 2 female
	City       string    `json:"city,omitempty"`
	Province   string    `json:"province,omitempty"`
	Country    string    `json:"country,omitempty"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

// ErrUserNotFound is returned by UserStore.Get for an unknown user.
var ErrUserNotFound = errors.New("sqlite: user not found")

// UserStore keeps the users of web login in wxkit_users, one row per
// (appid, openid). Safe for concurrent use and across processes.
type UserStore struct {
	db *DB
}

// userSchema is the DDL of the user store. Times are Unix milliseconds.
var userSchema = []string{
	`CREATE TABLE IF NOT EXISTS wxkit_users (
		appid      TEXT NOT NULL,
		openid     TEXT NOT NULL,
		unionid    TEXT NOT NULL DEFAULT '',
		nickname   TEXT NOT NULL DEFAULT '',
		headimgurl TEXT NOT NULL DEFAULT '',
		sex        INTEGER NOT NULL DEFAULT 0,
		city       TEXT NOT NULL DEFAULT '',
		province   TEXT NOT NULL DEFAULT '',
		country    TEXT NOT NULL DEFAULT '',
		first_seen INTEGER NOT NULL, -- Unix ms
		last_seen  INTEGER NOT NULL, -- Unix ms
		PRIMARY KEY (appid, openid)
	)`,
	`CREATE INDEX IF NOT EXISTS wxkit_users_unionid ON wxkit_users (unionid) WHERE unionid <> ''`,
}

// NewUserStore creates the users table if needed and returns the store.
func NewUserStore(ctx context.Context, db *DB) (*UserStore, error) {
	if db == nil {
		return nil, errors.New("sqlite: NewUserStore: nil DB")
	}
	if err := db.Migrate(ctx, userSchema...); err != nil {
		return nil, err
	}
	return &UserStore{db: db}, nil
}

// Upsert records a login of u at time at: a new user gets FirstSeen and
// LastSeen at; a known one gets LastSeen at. With profile true the profile
// fields (nickname, headimgurl, sex, city, province, country) are written
// from u; with profile false (an snsapi_base login, which reads no profile)
// the stored ones are kept, and a new user has none. A non-empty UnionID is
// always written; an empty one never erases a stored one. It returns the
// user as stored afterwards.
func (s *UserStore) Upsert(ctx context.Context, u User, profile bool, at time.Time) (*User, error) {
	if u.AppID == "" || u.OpenID == "" {
		return nil, errors.New("sqlite: user upsert: appid and openid are required")
	}
	if !profile {
		u.Nickname, u.HeadImgURL, u.Sex, u.City, u.Province, u.Country = "", "", 0, "", "", ""
	}
	p := 0
	if profile {
		p = 1
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO wxkit_users (appid, openid, unionid, nickname, headimgurl, sex, city, province, country, first_seen, last_seen)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (appid, openid) DO UPDATE SET
			unionid    = CASE WHEN excluded.unionid <> '' THEN excluded.unionid ELSE wxkit_users.unionid END,
			nickname   = CASE WHEN ?12 THEN excluded.nickname ELSE wxkit_users.nickname END,
			headimgurl = CASE WHEN ?12 THEN excluded.headimgurl ELSE wxkit_users.headimgurl END,
			sex        = CASE WHEN ?12 THEN excluded.sex ELSE wxkit_users.sex END,
			city       = CASE WHEN ?12 THEN excluded.city ELSE wxkit_users.city END,
			province   = CASE WHEN ?12 THEN excluded.province ELSE wxkit_users.province END,
			country    = CASE WHEN ?12 THEN excluded.country ELSE wxkit_users.country END,
			last_seen  = MAX(wxkit_users.last_seen, excluded.last_seen)`,
		u.AppID, u.OpenID, u.UnionID, u.Nickname, u.HeadImgURL, u.Sex, u.City, u.Province, u.Country,
		at.UnixMilli(), at.UnixMilli(), p)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user upsert: %w", err)
	}
	return s.Get(ctx, u.AppID, u.OpenID)
}

// Get returns the user openID of appID, or ErrUserNotFound.
func (s *UserStore) Get(ctx context.Context, appID, openID string) (*User, error) {
	u := User{AppID: appID, OpenID: openID}
	var first, last int64
	err := s.db.QueryRowContext(ctx,
		`SELECT unionid, nickname, headimgurl, sex, city, province, country, first_seen, last_seen
		 FROM wxkit_users WHERE appid = ? AND openid = ?`, appID, openID).
		Scan(&u.UnionID, &u.Nickname, &u.HeadImgURL, &u.Sex, &u.City, &u.Province, &u.Country, &first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: user get: %w", err)
	}
	u.FirstSeen, u.LastSeen = time.UnixMilli(first), time.UnixMilli(last)
	return &u, nil
}
