package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Scope is the authorization scope of a web authorization request.
type Scope string

// Scopes of Official Account web authorization.
const (
	// ScopeBase (静默授权) redirects without asking the user and yields the
	// openid only; UserInfo is refused with errcode 48001.
	ScopeBase Scope = "snsapi_base"
	// ScopeUserInfo shows the consent sheet ("申请获取你的昵称、头像") and
	// allows UserInfo.
	ScopeUserInfo Scope = "snsapi_userinfo"
)

// Default base URLs of the two WeChat hosts involved.
const (
	// DefaultOpenBase is the host of the authorize page.
	DefaultOpenBase = "https://open.weixin.qq.com/"
	// DefaultAPIBase is the host of the /sns/ APIs.
	DefaultAPIBase = "https://api.weixin.qq.com/"
)

// Config describes a web authorization client of one Official Account, in
// the manner of golang.org/x/oauth2.Config. A Config is safe for concurrent
// use once it is no longer modified.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
type Config struct {
	// AppID is the Official Account's AppID. Required.
	AppID string
	// AppSecret is the account's AppSecret, sent by Exchange only. Required
	// by Exchange. It never appears in an error.
	AppSecret string
	// RedirectURL is the absolute URL WeChat redirects the user to with
	// code and state. Its host must be the account's configured OAuth domain
	// (网页授权域名), else WeChat shows error 10003.
	RedirectURL string
	// Scope is ScopeBase or ScopeUserInfo; empty means ScopeBase.
	Scope Scope
	// OpenBase is the authorize host; DefaultOpenBase when empty. A missing
	// trailing slash is added.
	OpenBase string
	// APIBase is the API host; DefaultAPIBase when empty. A missing trailing
	// slash is added.
	APIBase string
	// HTTPClient sends the API requests; http.DefaultClient when nil.
	HTTPClient *http.Client

	// now replaces time.Now in tests.
	now func() time.Time
}

// ErrMissingConfig is returned (wrapped, naming the field) when a Config
// field that the call needs is empty.
var ErrMissingConfig = errors.New("oauth: missing config")

// AuthCodeURL returns the URL of WeChat's authorize page that the user's
// browser must be sent to (with a 302, or location.href in the page):
//
//	{OpenBase}connect/oauth2/authorize?appid=APPID&redirect_uri=REDIRECT_URI&response_type=code&scope=SCOPE&state=STATE#wechat_redirect
//
// The parameters come in the order the WeChat docs give (the platform is
// known to reject other orders), redirect_uri and state are query-escaped,
// and the "#wechat_redirect" fragment is appended. state should be at most
// 128 bytes of [a-zA-Z0-9] (the docs' rule) and must be unguessable and
// checked on the callback to prevent CSRF.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#0
func (c *Config) AuthCodeURL(state string) string {
	scope := c.Scope
	if scope == "" {
		scope = ScopeBase
	}
	var b strings.Builder
	b.Grow(200 + len(c.RedirectURL) + len(state))
	b.WriteString(withSlash(c.OpenBase, DefaultOpenBase))
	b.WriteString("connect/oauth2/authorize?appid=")
	b.WriteString(url.QueryEscape(c.AppID))
	b.WriteString("&redirect_uri=")
	b.WriteString(url.QueryEscape(c.RedirectURL))
	b.WriteString("&response_type=code&scope=")
	b.WriteString(url.QueryEscape(string(scope)))
	b.WriteString("&state=")
	b.WriteString(url.QueryEscape(state))
	b.WriteString("#wechat_redirect")
	return b.String()
}

// withSlash returns base (or def when base is empty) ending with "/".
func withSlash(base, def string) string {
	if base == "" {
		return def
	}
	if !strings.HasSuffix(base, "/") {
		return base + "/"
	}
	return base
}

// timeNow returns the current time of c's clock.
func (c *Config) timeNow() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// client returns the HTTP client to use.
func (c *Config) client() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}
