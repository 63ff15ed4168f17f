package openplatform

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"
)

// PreAuthCode is a pre-authorization code (pre_auth_code): it opens the
// authorization page once, within its lifetime (1800 s on the platform
// today).
type PreAuthCode struct {
	Code      string    `json:"pre_auth_code"`
	ExpiresIn int       `json:"expires_in"` // seconds
	Expiry    time.Time `json:"-"`          // when it expires, by the Component's clock
}

// PreAuthCode creates a pre-authorization code for an authorization link
// (AuthorizeURL, MobileAuthorizeURL). Create one per link: a code serves
// one authorization.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/pre_auth_code.html
func (c *Component) PreAuthCode(ctx context.Context) (*PreAuthCode, error) {
	const path = "cgi-bin/component/api_create_preauthcode"
	var p PreAuthCode
	if err := c.call(ctx, path, map[string]string{"component_appid": c.appID}, &p); err != nil {
		return nil, err
	}
	if p.Code == "" {
		return nil, errors.New("wxkit: POST " + path + ": reply carries no pre_auth_code")
	}
	p.Expiry = c.now().Add(time.Duration(p.ExpiresIn) * time.Second)
	return &p, nil
}

// AuthType is the auth_type of an authorization link: the kinds of
// account the administrator may choose from on the authorization page.
type AuthType int

// Authorization link account kinds.
const (
	AuthTypeDefault         AuthType = 0 // omitted: the platform's default (every kind)
	AuthTypeOfficialAccount AuthType = 1 // Official Accounts only
	AuthTypeMiniProgram     AuthType = 2 // Mini Programs only
	AuthTypeBoth            AuthType = 3 // Official Accounts and Mini Programs
)

// AuthorizeURL returns the PC authorization link (the administrator scans
// a QR code with WeChat):
//
//	https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid=...&pre_auth_code=...&redirect_uri=...&auth_type=...&biz_appid=...
//
// on the host set with WithMPBaseURL. The page must be opened from a page
// on the component's authorization domain (the platform checks the
// Referer). After approval the browser goes to redirectURI with auth_code
// and expires_in (give auth_code to QueryAuth). authType 0 and an empty
// bizAppID (the only account that may authorize) are left out; bizAppID
// wins over a conflicting authType.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Authorization_Process_Technical_Description.html
func (c *Component) AuthorizeURL(preAuthCode, redirectURI string, authType AuthType, bizAppID string) string {
	u := c.cfg.mpBaseURL.JoinPath("cgi-bin/componentloginpage")
	u.RawQuery = c.authorizeQuery(nil, preAuthCode, redirectURI, authType, bizAppID)
	return u.String()
}

// MobileAuthorizeURL returns the mobile authorization link, opened in
// WeChat on the administrator's phone:
//
//	https://open.weixin.qq.com/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid=...&pre_auth_code=...&redirect_uri=...&auth_type=...&biz_appid=...#wechat_redirect
//
// on the host set with WithOpenBaseURL. The parameters are as for
// AuthorizeURL. This is the documented H5 link (H5版-新版); the docs keep
// the older https://mp.weixin.qq.com/safe/bindcomponent?... (H5版-旧版)
// with the same query, which SDKs of the time still build; the emulator
// serves both.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Authorization_Process_Technical_Description.html
func (c *Component) MobileAuthorizeURL(preAuthCode, redirectURI string, authType AuthType, bizAppID string) string {
	u := c.cfg.openBaseURL.JoinPath("wxaopen/safe/bindcomponent")
	u.RawQuery = c.authorizeQuery([][2]string{{"action", "bindcomponent"}, {"no_scan", "1"}},
		preAuthCode, redirectURI, authType, bizAppID)
	u.Fragment = "wechat_redirect"
	return u.String()
}

// authorizeQuery encodes the parameters of an authorization link in the
// documented order (url.Values would sort them).
func (c *Component) authorizeQuery(lead [][2]string, preAuthCode, redirectURI string, authType AuthType, bizAppID string) string {
	ps := append(lead, [2]string{"component_appid", c.appID}, [2]string{"pre_auth_code", preAuthCode},
		[2]string{"redirect_uri", redirectURI})
	if authType != AuthTypeDefault {
		ps = append(ps, [2]string{"auth_type", strconv.Itoa(int(authType))})
	}
	if bizAppID != "" {
		ps = append(ps, [2]string{"biz_appid", bizAppID})
	}
	var b []byte
	for i, p := range ps {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, url.QueryEscape(p[0])...)
		b = append(b, '=')
		b = append(b, url.QueryEscape(p[1])...)
	}
	return string(b)
}
