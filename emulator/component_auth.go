package emulator

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

func init() {
	handle("/cgi-bin/component/api_create_preauthcode", (*Emulator).serveCreatePreAuthCode)
	handle("/cgi-bin/component/api_query_auth", (*Emulator).serveQueryAuth)
	handle("/cgi-bin/component/api_authorizer_token", (*Emulator).serveAuthorizerToken)
	handle("/cgi-bin/component/api_get_authorizer_info", (*Emulator).serveGetAuthorizerInfo)
}

// ErrNoRedirectURI: an authorization approved through the control API
// whose pre_auth_code was never opened on the authorization page and that
// names no redirect_uri.
var ErrNoRedirectURI = errors.New("emulator: no redirect_uri: open the authorization page with the pre_auth_code first, or give redirect_uri")

// Permission sets (权限集, func_info) granted on authorization.
var (
	officialAccountFuncs = []int{1, 2, 3, 4, 7, 11}
	miniProgramFuncs     = []int{17, 18, 19, 25, 30, 31}
)

// funcsOf returns the permission sets a grants.
func funcsOf(a *app) []int {
	if a.cfg.Type == AppTypeMiniProgram {
		return slices.Clone(miniProgramFuncs)
	}
	return slices.Clone(officialAccountFuncs)
}

// serveCreatePreAuthCode serves POST
// /cgi-bin/component/api_create_preauthcode?component_access_token
// {"component_appid"} → {"pre_auth_code","expires_in":1800}. The code
// opens the authorization page once: it is spent when an account
// authorizes the platform with it. Errors: those of componentCall.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/pre_auth_code.html
func (e *Emulator) serveCreatePreAuthCode(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	c := e.componentCall(w, r, &req)
	if c == nil {
		return
	}
	now := e.Now()
	code := "preauthcode@@@" + randomString(64, tokenAlphabet)
	c.mu.Lock()
	if len(c.preAuth) > 1024 {
		for k, p := range c.preAuth {
			if now.After(p.expires.Add(time.Hour)) {
				delete(c.preAuth, k)
			}
		}
	}
	c.preAuth[code] = &preAuthCode{expires: now.Add(PreAuthCodeLifetime)}
	c.mu.Unlock()
	e.stats.recordComponent(c.cfg.AppID, func(cc *ComponentCounts) { cc.PreAuthCodes++ })
	writeJSON(w, struct {
		PreAuthCode string `json:"pre_auth_code"`
		ExpiresIn   int    `json:"expires_in"`
	}{code, int(PreAuthCodeLifetime / time.Second)})
}

// AuthorizeResult is what an account's approval on the authorization page
// leads to.
type AuthorizeResult struct {
	// Redirect is where the admin's browser goes:
	// redirect_uri?auth_code=AUTH_CODE&expires_in=3600.
	Redirect string `json:"redirect"`
	// AuthCode is the authorization code, for api_query_auth.
	AuthCode  string `json:"auth_code"`
	ExpiresIn int    `json:"expires_in"`
	// Event is the authorized (or, for an account that had already
	// authorized the platform, updateauthorized) push.
	Event ComponentPush `json:"event"`
}

// AuthorizeComponent makes the admin of the account authorizerAppID
// approve, on the authorization page opened with preAuthCode, the
// authorization of the platform componentAppID. redirectURI may be empty
// when the page was opened (its redirect_uri is used). The pre_auth_code is
// spent; the account gets a new authorizer_refresh_token (a former one
// stops working); an authorization code valid for
// AuthorizationCodeLifetime is made; the authorized event (updateauthorized
// for an account that had authorized before) is pushed to the platform's
// push URL before the result is returned. Errors: ErrUnknownComponent,
// ErrUnknownApp, ErrInvalidPreAuthCode, ErrAccountNotOffered (the page was
// opened with an auth_type or biz_appid that excludes the account),
// ErrNoRedirectURI. A push that is not acknowledged is reported in the
// result's Event.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Authorization_Process_Technical_Description.html
func (e *Emulator) AuthorizeComponent(ctx context.Context, componentAppID, authorizerAppID, preAuthCode, redirectURI string) (*AuthorizeResult, error) {
	c := e.component(componentAppID)
	if c == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownComponent, componentAppID)
	}
	return e.authorize(ctx, c, authorizerAppID, preAuthCode, redirectURI)
}

// authorize is AuthorizeComponent for c.
func (e *Emulator) authorize(ctx context.Context, c *component, authorizerAppID, preAuthCode, redirectURI string) (*AuthorizeResult, error) {
	a := e.app(authorizerAppID)
	if a == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownApp, authorizerAppID)
	}
	now := e.Now()
	c.mu.Lock()
	pa := c.preAuth[preAuthCode]
	if pa == nil || pa.used || !now.Before(pa.expires) {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: unknown, used or expired (%d s)", ErrInvalidPreAuthCode, int(PreAuthCodeLifetime/time.Second))
	}
	if !accountOffered(a, pa.authType, pa.bizAppID) {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrAccountNotOffered, authorizerAppID)
	}
	if redirectURI == "" {
		redirectURI = pa.redirectURI
	}
	if redirectURI == "" {
		c.mu.Unlock()
		return nil, ErrNoRedirectURI
	}
	pa.used = true
	infoType := InfoTypeAuthorized
	au := c.auths[authorizerAppID]
	if au != nil {
		infoType = InfoTypeUpdateAuthorized
	} else {
		au = &authorization{appID: authorizerAppID}
		c.auths[authorizerAppID] = au
	}
	au.at = now
	au.refreshToken = "refreshtoken@@@" + randomString(43, tokenAlphabet)
	au.funcs = funcsOf(a)
	code := c.newAuthCode(authorizerAppID, now)
	c.mu.Unlock()

	expires := now.Add(AuthorizationCodeLifetime)
	ev := e.pushComponent(ctx, c, ComponentPush{
		At: now, InfoType: infoType, AuthorizerAppID: authorizerAppID, AuthorizationCode: code,
		XML: componentEventXML(c, infoType, now, "AuthorizerAppid", authorizerAppID, "AuthorizationCode", code,
			"AuthorizationCodeExpiredTime", strconv.FormatInt(expires.Unix(), 10), "PreAuthCode", preAuthCode),
	})
	secs := int(AuthorizationCodeLifetime / time.Second)
	return &AuthorizeResult{
		Redirect: oauthRedirectURL(redirectURI, "auth_code", code, "expires_in", strconv.Itoa(secs)),
		AuthCode: code, ExpiresIn: secs, Event: ev,
	}, nil
}

// newAuthCode makes an authorization code of authorizerAppID. c.mu must
// be held.
func (c *component) newAuthCode(authorizerAppID string, now time.Time) string {
	if len(c.codes) > 1024 {
		for k, ac := range c.codes {
			if now.After(ac.expires.Add(time.Hour)) {
				delete(c.codes, k)
			}
		}
	}
	code := "queryauthcode@@@" + randomString(86, tokenAlphabet)
	c.codes[code] = &authCode{authorizer: authorizerAppID, expires: now.Add(AuthorizationCodeLifetime)}
	return code
}

// UnauthorizeComponent makes the admin of authorizerAppID cancel its
// authorization of componentAppID: the authorizer_refresh_token (61023
// from then on), the authorizer_access_tokens (40001) and the outstanding
// authorization codes (61009) stop working, its messages go back to its
// own push URL, and the unauthorized event is pushed to the platform.
// Errors: ErrUnknownComponent, ErrNotAuthorized.
func (e *Emulator) UnauthorizeComponent(ctx context.Context, componentAppID, authorizerAppID string) (*ComponentPush, error) {
	c := e.component(componentAppID)
	if c == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownComponent, componentAppID)
	}
	now := e.Now()
	c.mu.Lock()
	au := c.auths[authorizerAppID]
	if au == nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %s and %s", ErrNotAuthorized, authorizerAppID, componentAppID)
	}
	delete(c.auths, authorizerAppID)
	for k, ac := range c.codes {
		if ac.authorizer == authorizerAppID {
			delete(c.codes, k)
		}
	}
	c.mu.Unlock()
	e.revokeToken(au.latest, now)
	e.revokeToken(au.prev, now)
	p := e.pushComponent(ctx, c, ComponentPush{
		At: now, InfoType: InfoTypeUnauthorized, AuthorizerAppID: authorizerAppID,
		XML: componentEventXML(c, InfoTypeUnauthorized, now, "AuthorizerAppid", authorizerAppID),
	})
	return &p, nil
}

// issueAuthorizerToken issues an authorizer_access_token of au: a token of
// the account, accepted by its APIs, valid for Limits.TokenLifetime. The
// one before stays valid for Limits.TokenOverlap, older ones end at once.
// c.mu must be held.
func (e *Emulator) issueAuthorizerToken(c *component, au *authorization, now time.Time) *tokenRecord {
	rec := &tokenRecord{
		value: newTokenValue(), appID: au.appID, kind: tokenKindAuthorizer,
		issued: now, expires: now.Add(e.cfg.Limits.TokenLifetime),
	}
	e.tokMu.Lock()
	e.tokens[rec.value] = rec
	e.tokMu.Unlock()
	prev, older := au.latest, au.prev
	au.latest, au.prev = rec, prev
	e.revokeToken(prev, now.Add(e.cfg.Limits.TokenOverlap))
	e.revokeToken(older, now)
	e.stats.recordTokenFetch(au.appID, statTokenAuthorizer)
	e.stats.recordComponent(c.cfg.AppID, func(cc *ComponentCounts) { cc.AuthorizerTokens++ })
	return rec
}

// funcInfo is the func_info list of an authorization.
type funcInfo struct {
	FuncscopeCategory struct {
		ID int `json:"id"`
	} `json:"funcscope_category"`
}

func funcInfoOf(ids []int) []funcInfo {
	out := make([]funcInfo, len(ids))
	for i, id := range ids {
		out[i].FuncscopeCategory.ID = id
	}
	return out
}

// serveQueryAuth serves POST /cgi-bin/component/api_query_auth
// {"component_appid","authorization_code"} → {"authorization_info":
// {"authorizer_appid","authorizer_access_token","expires_in",
// "authorizer_refresh_token","func_info":[{"funcscope_category":{"id"}}]}}.
// The code may be exchanged again while valid (each exchange issues a new
// authorizer_access_token). Errors: those of componentCall, 41008 code
// missing, 61009 an unknown code (or one of an authorization cancelled
// since), 61010 an expired one.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/authorization_info.html
func (e *Emulator) serveQueryAuth(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AuthorizationCode string `json:"authorization_code"`
	}
	c := e.componentCall(w, r, &req)
	if c == nil {
		return
	}
	if req.AuthorizationCode == "" {
		e.writeErr(w, 41008)
		return
	}
	now := e.Now()
	c.mu.Lock()
	ac := c.codes[req.AuthorizationCode]
	var au *authorization
	if ac != nil {
		au = c.auths[ac.authorizer]
	}
	switch {
	case ac == nil || au == nil:
		c.mu.Unlock()
		e.writeAPIError(w, compErr(61009))
		return
	case !now.Before(ac.expires):
		c.mu.Unlock()
		e.writeAPIError(w, compErr(61010))
		return
	}
	ac.exchanges++
	tok := e.issueAuthorizerToken(c, au, now)
	refresh, funcs := au.refreshToken, funcInfoOf(au.funcs)
	c.mu.Unlock()
	type info struct {
		AuthorizerAppID        string     `json:"authorizer_appid"`
		AuthorizerAccessToken  string     `json:"authorizer_access_token"`
		ExpiresIn              int        `json:"expires_in"`
		AuthorizerRefreshToken string     `json:"authorizer_refresh_token"`
		FuncInfo               []funcInfo `json:"func_info"`
	}
	writeJSON(w, struct {
		AuthorizationInfo info `json:"authorization_info"`
	}{info{au.appID, tok.value, int(e.cfg.Limits.TokenLifetime / time.Second), refresh, funcs}})
}

// serveAuthorizerToken serves POST /cgi-bin/component/api_authorizer_token
// {"component_appid","authorizer_appid","authorizer_refresh_token"} →
// {"authorizer_access_token","expires_in","authorizer_refresh_token"}.
// The refresh token does not rotate: the same one comes back, and it
// changes only when the account authorizes the platform again. Errors:
// those of componentCall, 41002 authorizer_appid missing, 41003 the refresh
// token missing, 61023 a refresh token that is not the account's current
// one for this platform (never issued, replaced by a new authorization, or
// of a cancelled authorization).
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/api_authorizer_token.html
func (e *Emulator) serveAuthorizerToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AuthorizerAppID        string `json:"authorizer_appid"`
		AuthorizerRefreshToken string `json:"authorizer_refresh_token"`
	}
	c := e.componentCall(w, r, &req)
	if c == nil {
		return
	}
	switch {
	case req.AuthorizerAppID == "":
		e.writeErr(w, 41002)
		return
	case req.AuthorizerRefreshToken == "":
		e.writeErr(w, 41003)
		return
	}
	now := e.Now()
	c.mu.Lock()
	au := c.auths[req.AuthorizerAppID]
	if au == nil || subtle.ConstantTimeCompare([]byte(req.AuthorizerRefreshToken), []byte(au.refreshToken)) != 1 {
		c.mu.Unlock()
		e.writeAPIError(w, compErr(61023))
		return
	}
	tok := e.issueAuthorizerToken(c, au, now)
	refresh := au.refreshToken
	c.mu.Unlock()
	writeJSON(w, struct {
		AuthorizerAccessToken  string `json:"authorizer_access_token"`
		ExpiresIn              int    `json:"expires_in"`
		AuthorizerRefreshToken string `json:"authorizer_refresh_token"`
	}{tok.value, int(e.cfg.Limits.TokenLifetime / time.Second), refresh})
}

// serveGetAuthorizerInfo serves POST
// /cgi-bin/component/api_get_authorizer_info
// {"component_appid","authorizer_appid"} → {"authorizer_info":{"nick_name"
// (the app's name), "head_img", "service_type_info":{"id"},
// "verify_type_info":{"id"}, "user_name" (its original id), "alias",
// "qrcode_url", "principal_name", "business_info", and for a Mini Program
// "MiniProgramInfo"}, "authorization_info":{"authorizer_appid",
// "authorizer_refresh_token","func_info"}}. Errors: those of componentCall,
// 41002 authorizer_appid missing, 61003 an account that has not authorized
// the platform.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/api_get_authorizer_info.html
func (e *Emulator) serveGetAuthorizerInfo(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AuthorizerAppID string `json:"authorizer_appid"`
	}
	c := e.componentCall(w, r, &req)
	if c == nil {
		return
	}
	if req.AuthorizerAppID == "" {
		e.writeErr(w, 41002)
		return
	}
	c.mu.Lock()
	au := c.auths[req.AuthorizerAppID]
	var refresh string
	var funcs []funcInfo
	if au != nil {
		refresh, funcs = au.refreshToken, funcInfoOf(au.funcs)
	}
	c.mu.Unlock()
	a := e.app(req.AuthorizerAppID)
	if au == nil || a == nil {
		e.writeAPIError(w, compErr(61003))
		return
	}
	name := a.cfg.Name
	if name == "" {
		name = a.cfg.AppID
	}
	type idBox struct {
		ID int `json:"id"`
	}
	info := map[string]any{
		"nick_name":         name,
		"head_img":          "http://wx.qlogo.cn/mmopen/" + seededTemplateID(a.cfg.AppID, "head_img") + "/0",
		"service_type_info": idBox{2},
		"verify_type_info":  idBox{0},
		"user_name":         a.cfg.OriginalID,
		"alias":             "",
		"qrcode_url":        "http://mmbiz.qpic.cn/mmbiz_jpg/" + seededTemplateID(a.cfg.AppID, "qrcode") + "/0",
		"principal_name":    name,
		"business_info":     map[string]int{"open_store": 0, "open_scan": 0, "open_pay": 0, "open_card": 0, "open_shake": 0},
	}
	if a.cfg.Type == AppTypeMiniProgram {
		info["service_type_info"] = idBox{0}
		info["signature"] = ""
		info["MiniProgramInfo"] = map[string]any{
			"network":      map[string][]string{"RequestDomain": {}, "WsRequestDomain": {}, "UploadDomain": {}, "DownloadDomain": {}},
			"categories":   []any{},
			"visit_status": 0,
		}
	}
	writeJSON(w, map[string]any{
		"authorizer_info": info,
		"authorization_info": map[string]any{
			"authorizer_appid": a.cfg.AppID, "authorizer_refresh_token": refresh, "func_info": funcs,
		},
	})
}
