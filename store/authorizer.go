package store

import (
	"context"
	"time"
)

// Authorizer is an account (Official Account or Mini Program) that
// authorized an Open Platform component (第三方平台) to act for it.
//
// RefreshToken is the authorizer_refresh_token, the one credential whose
// loss forces the account's administrator to authorize again: stores keep
// it durably (it never expires from a store) and callers encrypt it before
// it reaches one (the store holds ciphertext only).
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/authorization_info.html
type Authorizer struct {
	ComponentAppID string    `json:"component_appid"`
	AppID          string    `json:"authorizer_appid"`
	RefreshToken   []byte    `json:"-"`          // encrypted by the caller
	FuncInfo       []int     `json:"func_info"`  // the permission sets granted (funcscope_category ids)
	Nickname       string    `json:"nick_name"`  // from api_get_authorizer_info
	UserName       string    `json:"user_name"`  // original id, gh_…
	Authorized     bool      `json:"authorized"` // false after an unauthorized event
	Created        time.Time `json:"created"`
	Updated        time.Time `json:"updated"`
}

// Authorizers keeps the accounts that authorized components.
type Authorizers interface {
	// PutAuthorizer stores a, replacing what is stored for its
	// (ComponentAppID, AppID) except Created, which keeps the first value.
	// ComponentAppID and AppID are required.
	PutAuthorizer(ctx context.Context, a *Authorizer) error
	// Authorizer returns the authorizer, or ErrNotFound.
	Authorizer(ctx context.Context, componentAppID, appID string) (*Authorizer, error)
	// ListAuthorizers returns the authorizers of componentAppID, authorized
	// and not, ordered by AppID.
	ListAuthorizers(ctx context.Context, componentAppID string) ([]*Authorizer, error)
}
