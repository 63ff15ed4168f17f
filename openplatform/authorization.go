package openplatform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/token"
)

// FuncInfo is the list of permission sets (权限集) an account granted, as
// funcscope_category ids. It decodes the platform's
// [{"funcscope_category":{"id":1}}, ...] form.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/product/miniprogram_authority.html
type FuncInfo []int

// UnmarshalJSON implements json.Unmarshaler.
func (f *FuncInfo) UnmarshalJSON(b []byte) error {
	var raw []struct {
		FuncscopeCategory struct {
			ID int `json:"id"`
		} `json:"funcscope_category"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(FuncInfo, 0, len(raw))
	for _, r := range raw {
		out = append(out, r.FuncscopeCategory.ID)
	}
	*f = out
	return nil
}

// authorizationInfo is authorization_info in the replies of api_query_auth
// and api_get_authorizer_info.
type authorizationInfo struct {
	AuthorizerAppID        string   `json:"authorizer_appid"`
	AppID                  string   `json:"appid"` // older replies of api_get_authorizer_info
	AuthorizerAccessToken  string   `json:"authorizer_access_token"`
	ExpiresIn              int64    `json:"expires_in"` // seconds
	AuthorizerRefreshToken string   `json:"authorizer_refresh_token"`
	FuncInfo               FuncInfo `json:"func_info"`
}

func (a *authorizationInfo) appID() string {
	if a.AuthorizerAppID != "" {
		return a.AuthorizerAppID
	}
	return a.AppID
}

// Authorization is what api_query_auth answers for an authorization code:
// the account that authorized the component, the permission sets it
// granted, and its first access token. The refresh token never leaves the
// Component: it goes, encrypted, to the Authorizers store.
type Authorization struct {
	AuthorizerAppID string
	FuncInfo        FuncInfo
	// Token is the authorizer_access_token with its expiry, also stored
	// under token.AuthorizerTokenKey; it prints redacted. Nil when the reply
	// carried none.
	Token *token.Token
}

// QueryAuth exchanges an authorization code (auth_code on the redirect
// after the authorization page, or AuthorizationCode in an authorized or
// updateauthorized event) for the authorization: it stores the authorizer
// (Authorized, its permission sets, its refresh token encrypted), seeds
// its access token in the token store, and then reads its nickname and
// original id (AuthorizerInfo; a failure there is logged, not returned).
// Codes are single use and short-lived: 61009 (invalid) and 61010
// (expired) come back as *wxkit.APIError.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/authorization_info.html
func (c *Component) QueryAuth(ctx context.Context, authCode string) (*Authorization, error) {
	const path = "cgi-bin/component/api_query_auth"
	if authCode == "" {
		return nil, errors.New("openplatform: QueryAuth: empty authorization code")
	}
	// The code of an authorization reaches the application twice: on the
	// redirect and in the authorized event, maybe at two instances. The
	// second exchange answers from the store.
	codeKey := authorizationCodeKey(c.appID, authCode)
	if a, ok := c.exchanged(ctx, codeKey); ok {
		return a, nil
	}
	var r struct {
		AuthorizationInfo authorizationInfo `json:"authorization_info"`
	}
	body := map[string]string{"component_appid": c.appID, "authorization_code": authCode}
	if err := c.call(ctx, path, body, &r); err != nil {
		if errors.Is(err, ErrCodeInvalid) || errors.Is(err, ErrCodeExpired) {
			if a, ok := c.exchanged(ctx, codeKey); ok {
				return a, nil
			}
		}
		return nil, err
	}
	info := &r.AuthorizationInfo
	appID := info.appID()
	if appID == "" {
		return nil, errors.New("wxkit: POST " + path + ": reply carries no authorizer_appid")
	}
	now := c.now()
	if err := c.saveAuthorization(ctx, appID, info, now); err != nil {
		return nil, err
	}
	if err := c.cfg.tokens.Set(ctx, codeKey, &token.Token{Value: appID, Expiry: now.Add(authorizationCodeLifetime)}); err != nil {
		c.cfg.logger.WarnContext(ctx, "openplatform: recording an exchanged authorization code failed",
			slog.String("component_appid", c.appID), slog.String("authorizer_appid", appID), slog.Any("err", err))
	}
	a := &Authorization{AuthorizerAppID: appID, FuncInfo: info.FuncInfo}
	if info.AuthorizerAccessToken != "" && info.ExpiresIn > 0 {
		a.Token = &token.Token{Value: info.AuthorizerAccessToken, Expiry: now.Add(time.Duration(info.ExpiresIn) * time.Second)}
		if err := c.cfg.tokens.Set(ctx, token.AuthorizerTokenKey(c.appID, appID), a.Token); err != nil {
			// The token is fetched again from the refresh token when needed.
			c.cfg.logger.WarnContext(ctx, "openplatform: storing the authorizer's first access token failed",
				slog.String("component_appid", c.appID), slog.String("authorizer_appid", appID), slog.Any("err", err))
		}
	}
	if _, err := c.AuthorizerInfo(ctx, appID); err != nil {
		c.cfg.logger.WarnContext(ctx, "openplatform: reading the new authorizer's account info failed",
			slog.String("component_appid", c.appID), slog.String("authorizer_appid", appID), slog.Any("err", err))
	}
	return a, nil
}

// saveAuthorization stores the authorizer of a query_auth reply as
// authorized, with its refresh token sealed (a reply without one keeps the
// stored one).
func (c *Component) saveAuthorization(ctx context.Context, appID string, info *authorizationInfo, now time.Time) error {
	a, err := c.cfg.authorizers.Authorizer(ctx, c.appID, appID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a = &store.Authorizer{ComponentAppID: c.appID, AppID: appID, Created: now}
	case err != nil:
		return fmt.Errorf("openplatform: authorizer %s: read: %w", appID, err)
	}
	if info.AuthorizerRefreshToken != "" {
		a.RefreshToken = sealRefreshToken(c.cfg.aead, c.appID, appID, info.AuthorizerRefreshToken)
	}
	a.FuncInfo = info.FuncInfo
	a.Authorized = true
	a.Updated = now
	if err := c.cfg.authorizers.PutAuthorizer(ctx, a); err != nil {
		return fmt.Errorf("openplatform: authorizer %s: store: %w", appID, err)
	}
	return nil
}

// TypeInfo is an id with its description, as in service_type_info and
// verify_type_info.
type TypeInfo struct {
	ID   int    `json:"id"`
	Name string `json:"name,omitempty"`
}

// AuthorizerInfo is an authorizer's account, as api_get_authorizer_info
// answers.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/api_get_authorizer_info.html
type AuthorizerInfo struct {
	AppID    string `json:"-"` // authorization_info.authorizer_appid
	Nickname string `json:"nick_name"`
	HeadImg  string `json:"head_img"`
	// ServiceTypeInfo: for an Official Account 0 subscription account, 1
	// subscription account upgraded from an old account, 2 service account;
	// 0 for a Mini Program.
	ServiceTypeInfo TypeInfo `json:"service_type_info"`
	// VerifyTypeInfo: -1 not verified, 0 WeChat verification, 1 Sina Weibo,
	// 2 Tencent Weibo, 3 qualification verified without name verification,
	// 4 and 5 as 3 with Sina or Tencent Weibo.
	VerifyTypeInfo TypeInfo `json:"verify_type_info"`
	UserName       string   `json:"user_name"` // original id, gh_…: the ToUserName of its messages
	Alias          string   `json:"alias"`     // WeChat id, may be empty
	PrincipalName  string   `json:"principal_name"`
	Signature      string   `json:"signature"`
	QRCodeURL      string   `json:"qrcode_url"`
	AccountStatus  int      `json:"account_status"` // 1 normal, 14 cancelled, 16 banned, 18 warned, 19 frozen
	// BusinessInfo says which features are on (open_pay, open_shake,
	// open_scan, open_card, open_store: 1 on, 0 off).
	BusinessInfo map[string]int `json:"business_info,omitempty"`
	// MiniProgramInfo is present for a Mini Program only (its domains and
	// categories, as sent).
	MiniProgramInfo json.RawMessage `json:"MiniProgramInfo,omitempty"`
	FuncInfo        FuncInfo        `json:"-"` // authorization_info.func_info
}

// IsMiniProgram reports whether the authorizer is a Mini Program.
func (a *AuthorizerInfo) IsMiniProgram() bool { return len(a.MiniProgramInfo) > 0 }

// AuthorizerInfo reads an authorizer's account: nickname, avatar, account
// and verification types, original id (user_name), and the permission sets
// it granted. When the authorizer is stored, its Nickname, UserName and
// FuncInfo there are brought up to date.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/api_get_authorizer_info.html
func (c *Component) AuthorizerInfo(ctx context.Context, authorizerAppID string) (*AuthorizerInfo, error) {
	const path = "cgi-bin/component/api_get_authorizer_info"
	if authorizerAppID == "" {
		return nil, errors.New("openplatform: AuthorizerInfo: empty authorizer appid")
	}
	var r struct {
		AuthorizerInfo    AuthorizerInfo    `json:"authorizer_info"`
		AuthorizationInfo authorizationInfo `json:"authorization_info"`
		QRCodeURL         string            `json:"qrcode_url"` // where older replies put it
	}
	body := map[string]string{"component_appid": c.appID, "authorizer_appid": authorizerAppID}
	if err := c.call(ctx, path, body, &r); err != nil {
		return nil, err
	}
	info := &r.AuthorizerInfo
	info.AppID = r.AuthorizationInfo.appID()
	if info.AppID == "" {
		info.AppID = authorizerAppID
	}
	info.FuncInfo = r.AuthorizationInfo.FuncInfo
	if info.QRCodeURL == "" {
		info.QRCodeURL = r.QRCodeURL
	}
	if info.UserName != "" {
		c.userNames.Store(authorizerAppID, info.UserName)
	}
	if err := c.updateAccount(ctx, authorizerAppID, info); err != nil {
		c.cfg.logger.WarnContext(ctx, "openplatform: updating the stored authorizer failed",
			slog.String("component_appid", c.appID), slog.String("authorizer_appid", authorizerAppID), slog.Any("err", err))
	}
	return info, nil
}

// updateAccount copies an account's nickname, original id and permission
// sets to its stored authorizer, if there is one.
func (c *Component) updateAccount(ctx context.Context, appID string, info *AuthorizerInfo) error {
	a, err := c.cfg.authorizers.Authorizer(ctx, c.appID, appID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if a.Nickname == info.Nickname && a.UserName == info.UserName && (len(info.FuncInfo) == 0 || slices.Equal(a.FuncInfo, []int(info.FuncInfo))) {
		return nil
	}
	a.Nickname, a.UserName = info.Nickname, info.UserName
	if len(info.FuncInfo) > 0 {
		a.FuncInfo = info.FuncInfo
	}
	a.Updated = c.now()
	return c.cfg.authorizers.PutAuthorizer(ctx, a)
}

// authorizationCodeLifetime is how long an exchanged authorization code is
// remembered (the platform's codes live one hour).
const authorizationCodeLifetime = time.Hour

// authorizationCodeKey is the token-store key that records which
// authorizer an authorization code was exchanged for,
// "wxkit:authorization_code:<component_appid>:<sha256 of the code>".
func authorizationCodeKey(componentAppID, code string) string {
	sum := sha256.Sum256([]byte(code))
	return "wxkit:authorization_code:" + componentAppID + ":" + hex.EncodeToString(sum[:16])
}

// exchanged returns the Authorization of a code exchanged before, from the
// stores, if it was.
func (c *Component) exchanged(ctx context.Context, codeKey string) (*Authorization, bool) {
	t, err := c.cfg.tokens.Get(ctx, codeKey)
	if err != nil || t.Value == "" {
		return nil, false
	}
	appID := t.Value
	a, err := c.cfg.authorizers.Authorizer(ctx, c.appID, appID)
	if err != nil || !a.Authorized {
		return nil, false
	}
	out := &Authorization{AuthorizerAppID: appID, FuncInfo: FuncInfo(a.FuncInfo)}
	if at, err := c.cfg.tokens.Get(ctx, token.AuthorizerTokenKey(c.appID, appID)); err == nil {
		out.Token = at
	}
	return out, true
}
