package store

import (
	"context"
	"time"
)

// User is a WeChat user as web login (OAuth) or Mini Program login saw
// them, per app: the openid always, the unionid when WeChat gave one, and
// the profile fields only after an snsapi_userinfo login (or a decrypted
// Mini Program profile), the phone number only after a Mini Program's
// getPhoneNumber. FirstSeen and LastSeen are the first and the latest
// login. JSON names are WeChat's (sns/userinfo), phone_number excepted.
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

	// PhoneNumber is the number WeChat gave a Mini Program for the user
	// (phone_info.phoneNumber of wxa/business/getuserphonenumber: with
	// its country code for numbers outside mainland China).
	PhoneNumber string `json:"phone_number,omitempty"`
}

// Users keeps users, one record per (AppID, OpenID).
type Users interface {
	// UpsertUser records a login of u at time at, in one statement (so that
	// concurrent logins of one user leave one record): a new user gets
	// FirstSeen and LastSeen at; a known one gets LastSeen
	// max(stored, at). With profile true the profile fields (Nickname,
	// HeadImgURL, Sex, City, Province, Country) are written from u; with
	// profile false (an snsapi_base login reads no profile) the stored ones
	// are kept. A non-empty UnionID (or PhoneNumber) is written; an empty
	// one never erases a stored one. It returns the user as stored
	// afterwards. AppID and OpenID are required.
	UpsertUser(ctx context.Context, u *User, profile bool, at time.Time) (*User, error)
	// User returns the user openID of appID, or ErrNotFound.
	User(ctx context.Context, appID, openID string) (*User, error)
}
