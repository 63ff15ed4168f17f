package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/wxkit/wxkit"
)

// expiryDelta is how long before Expiry a Token stops being Valid, so that a
// token is not used in the last seconds of its life (as in x/oauth2).
const expiryDelta = 10 * time.Second

// Token is the web authorization grant of one user: the answer of
// /sns/oauth2/access_token and /sns/oauth2/refresh_token.
//
// AccessToken (an "sns" token, usable only with the /sns/ APIs and distinct
// from the account's cgi-bin access_token) lasts ExpiresIn seconds (7200);
// RefreshToken lasts 30 days and is not extended by refreshing. Both are
// secrets: String and LogValue print them redacted.
//
// The JSON form uses the wire names; "expiry" is the derived instant (RFC
// 3339) and "is_snapshotuser" decodes from WeChat's 1 as well as from true.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#1
type Token struct {
	AccessToken string `json:"access_token"`
	// ExpiresIn is the lifetime in seconds as WeChat gave it.
	ExpiresIn int `json:"expires_in"`
	// Expiry is the instant the access token expires: the time of the reply
	// plus ExpiresIn.
	Expiry       time.Time `json:"expiry,omitzero"`
	RefreshToken string    `json:"refresh_token"`
	OpenID       string    `json:"openid"`
	// Scope is the scope the user granted, e.g. ScopeUserInfo.
	Scope Scope `json:"scope"`
	// UnionID is set when the account is bound to an Open Platform account
	// and the scope is ScopeUserInfo.
	UnionID string `json:"unionid,omitempty"`
	// IsSnapshotUser is true when the user is a virtual account of the
	// snapshot page mode (快照页模式); its OpenID is not a real user's.
	IsSnapshotUser bool `json:"is_snapshotuser,omitempty"`
}

// UnmarshalJSON decodes a Token from the wire form (is_snapshotuser as 0/1)
// or from its own JSON form (is_snapshotuser as a bool).
func (t *Token) UnmarshalJSON(b []byte) error {
	type plain Token
	var v struct {
		*plain
		IsSnapshotUser json.RawMessage `json:"is_snapshotuser"`
	}
	v.plain = (*plain)(t)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch s := string(bytes.TrimSpace(v.IsSnapshotUser)); s {
	case "", "null", "0", "false":
		t.IsSnapshotUser = false
	case "1", "true":
		t.IsSnapshotUser = true
	default:
		return fmt.Errorf("oauth: is_snapshotuser: unexpected value %s", s)
	}
	return nil
}

// Valid reports whether t is non-nil, has an AccessToken and does not
// expire within the next 10 seconds (a zero Expiry never expires).
func (t *Token) Valid() bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || time.Now().Add(expiryDelta).Before(t.Expiry))
}

// String returns a redacted form, without the token values in clear.
func (t *Token) String() string {
	if t == nil {
		return "oauth.Token(nil)"
	}
	return fmt.Sprintf("oauth.Token(access_token=%s, refresh_token=%s, openid=%s, scope=%s, expiry=%s)",
		wxkit.Redact(t.AccessToken), wxkit.Redact(t.RefreshToken), t.OpenID, t.Scope, t.Expiry.UTC().Format(time.RFC3339))
}

// LogValue implements slog.LogValuer with the tokens redacted.
func (t *Token) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("nil")
	}
	return slog.GroupValue(
		slog.String("access_token", wxkit.Redact(t.AccessToken)),
		slog.String("refresh_token", wxkit.Redact(t.RefreshToken)),
		slog.String("openid", t.OpenID),
		slog.String("scope", string(t.Scope)),
		slog.Time("expiry", t.Expiry),
	)
}

// Exchange trades an authorization code for a Token with
// GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code.
// A code is single use and valid for 5 minutes: a used code gives
// wxkit.ErrCodeBeenUsed (40163), an unknown or expired one
// wxkit.ErrInvalidCode (40029). Other errors: 40013 (appid), 40125 (secret),
// as *wxkit.APIError. An empty code is refused before any request.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#1
func (c *Config) Exchange(ctx context.Context, code string) (*Token, error) {
	const path = "sns/oauth2/access_token"
	switch {
	case c.AppID == "":
		return nil, fmt.Errorf("wxkit: GET %s: %w: AppID", path, ErrMissingConfig)
	case c.AppSecret == "":
		return nil, fmt.Errorf("wxkit: GET %s: %w: AppSecret", path, ErrMissingConfig)
	case code == "":
		return nil, fmt.Errorf("wxkit: GET %s: empty code", path)
	}
	q := url.Values{
		"appid":      {c.AppID},
		"secret":     {c.AppSecret},
		"code":       {code},
		"grant_type": {"authorization_code"},
	}
	return c.fetchToken(ctx, path, q, c.AppSecret, code)
}

// Refresh renews the access token of a grant with
// GET /sns/oauth2/refresh_token?appid&grant_type=refresh_token&refresh_token.
// While the access token has not expired, WeChat returns it with a renewed
// lifetime; afterwards it returns a new one. The refresh token itself is not
// extended: after 30 days Refresh fails with wxkit.ErrRefreshTokenExpired
// (42002) and the user must authorize again; an unknown refresh token gives
// wxkit.ErrInvalidRefreshToken (40030).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#2
func (c *Config) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	const path = "sns/oauth2/refresh_token"
	switch {
	case c.AppID == "":
		return nil, fmt.Errorf("wxkit: GET %s: %w: AppID", path, ErrMissingConfig)
	case refreshToken == "":
		return nil, fmt.Errorf("wxkit: GET %s: empty refresh_token", path)
	}
	q := url.Values{
		"appid":         {c.AppID},
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
	}
	return c.fetchToken(ctx, path, q, refreshToken)
}

// fetchToken calls path and builds the Token, with Expiry from c's clock.
func (c *Config) fetchToken(ctx context.Context, path string, q url.Values, secrets ...string) (*Token, error) {
	var t Token
	if err := c.get(ctx, path, q, &t, secrets...); err != nil {
		return nil, err
	}
	if t.AccessToken == "" {
		return nil, fmt.Errorf("wxkit: GET %s: reply carries no access_token", path)
	}
	if t.ExpiresIn <= 0 {
		return nil, fmt.Errorf("wxkit: GET %s: reply carries expires_in %d", path, t.ExpiresIn)
	}
	t.Expiry = c.timeNow().Add(time.Duration(t.ExpiresIn) * time.Second)
	return &t, nil
}
