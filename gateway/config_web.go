package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/wxkit/wxkit/mp"
)

// OAuthConfig configures web login (/oauth/login, /oauth/callback,
// /api/me), served for every app that has a secret.
type OAuthConfig struct {
	// Secret is the HMAC-SHA256 key that signs login states, at least 16
	// characters. Environment: WXKIT_OAUTH_SECRET. When it is empty the
	// gateway draws a random key at start and warns: logins then only
	// complete on the process that started them (fine for dev mode, not
	// for several instances behind a load balancer). With redis: set, login
	// state nonces and sessions are kept in Redis, so that a login started
	// on one instance completes on another; every instance then needs the
	// same secret.
	Secret string `yaml:"secret"`
	// StateTTL is how long a login may take from /oauth/login to the
	// callback; default 10m.
	StateTTL Duration `yaml:"state_ttl"`
	// SessionTTL is the lifetime of a login session (and of its cookie);
	// default 168h (7 days).
	SessionTTL Duration `yaml:"session_ttl"`
	// AllowedReturnHosts lists the hosts ("example.com", or "example.com:8443"
	// for one port only) that an absolute return URL may point at. Relative
	// return paths ("/page?x=1") are always allowed, and so is the host of
	// public_url.
	AllowedReturnHosts []string `yaml:"allowed_return_hosts"`
}

// Defaults of OAuthConfig.
const (
	DefaultStateTTL   = 10 * time.Minute
	DefaultSessionTTL = 7 * 24 * time.Hour
)

// WebConfig configures the pages the gateway serves itself.
type WebConfig struct {
	// Demo serves the demo page at /demo/ (demo.go): opened in WeChat's web
	// view (or the emulator's), it signs in through /oauth/login
	// (snsapi_userinfo), shows the user of /api/me, runs wx.config with
	// /jssdk/config and pays 0.01 CNY through /pay/orders. Off by default
	// (404); dev mode turns it on. The page's host must be in the app's
	// jssdk.domains for wx.config to succeed.
	Demo bool `yaml:"demo"`
}

// JWeixinURL is the JS-SDK script the demo page loads: the emulator's copy
// (wechat.api_base + /open/js/jweixin-1.6.0.js) when api_base is not
// WeChat's own host, so that the page talks to the emulator's web view,
// else WeChat's (https://res.wx.qq.com/open/js/jweixin-1.6.0.js).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html
func (c *Config) JWeixinURL() string {
	base := strings.TrimRight(c.WeChat.APIBase, "/")
	if base == "" || base == DefaultAPIBase {
		return OfficialJWeixinURL
	}
	return base + "/open/js/jweixin-1.6.0.js"
}

// OfficialJWeixinURL is WeChat's JS-SDK script (version 1.6.0).
const OfficialJWeixinURL = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"

// DefaultAPIBase is wechat.api_base's default, WeChat's API host.
const DefaultAPIBase = "https://api.weixin.qq.com"

// JSSDKConfig configures GET /jssdk/config for one app.
type JSSDKConfig struct {
	// Domains are the hosts ("example.com" or "example.com:8443") of the
	// pages that may be signed: the app's JS接口安全域名. A page on any other
	// host is refused with 403; with no domains every page is refused.
	Domains []string `yaml:"domains"`
	// JSAPIList is the default jsApiList returned with the signature when
	// the request has no apis parameter.
	JSAPIList []string `yaml:"js_api_list"`
}

// MenuConfig is a custom menu as code: the `menu:` key of an app (synced at
// start) and the file of `wxkit menu`. Field names are WeChat's
// (cgi-bin/menu/create), so a menu/create JSON body is a valid file too:
//
//	button:
//	  - { type: click, name: 今日歌曲, key: V1001_TODAY_MUSIC }
//	  - name: 菜单
//	    sub_button:
//	      - { type: view, name: 搜索, url: "https://www.soso.com/" }
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
type MenuConfig struct {
	Button []MenuButton `yaml:"button" json:"button"`
}

// MenuButton is one button of a MenuConfig (see mp.Button for the fields
// each type needs).
type MenuButton struct {
	Type      string       `yaml:"type,omitempty" json:"type,omitempty"`
	Name      string       `yaml:"name" json:"name"`
	Key       string       `yaml:"key,omitempty" json:"key,omitempty"`
	URL       string       `yaml:"url,omitempty" json:"url,omitempty"`
	MediaID   string       `yaml:"media_id,omitempty" json:"media_id,omitempty"`
	AppID     string       `yaml:"appid,omitempty" json:"appid,omitempty"`
	PagePath  string       `yaml:"pagepath,omitempty" json:"pagepath,omitempty"`
	ArticleID string       `yaml:"article_id,omitempty" json:"article_id,omitempty"`
	SubButton []MenuButton `yaml:"sub_button,omitempty" json:"sub_button,omitempty"`
}

// normalizeWeb fills the defaults of the web-login, JS-SDK, verify-file and
// menu keys and validates them. Errors name the key.
func (c *Config) normalizeWeb() error {
	o := &c.OAuth
	if o.Secret != "" && len(o.Secret) < 16 {
		return fmt.Errorf("oauth.secret: must be at least 16 characters, got %d", len(o.Secret))
	}
	if o.StateTTL == 0 {
		o.StateTTL = Duration(DefaultStateTTL)
	}
	if o.StateTTL < Duration(time.Second) || o.StateTTL > Duration(24*time.Hour) {
		return fmt.Errorf("oauth.state_ttl: %s must be between 1s and 24h", time.Duration(o.StateTTL))
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = Duration(DefaultSessionTTL)
	}
	if o.SessionTTL < Duration(time.Minute) {
		return fmt.Errorf("oauth.session_ttl: %s must be at least 1m", time.Duration(o.SessionTTL))
	}
	for i, h := range o.AllowedReturnHosts {
		n, err := normalizeHost(h)
		if err != nil {
			return fmt.Errorf("oauth.allowed_return_hosts[%d]: %v", i, err)
		}
		o.AllowedReturnHosts[i] = n
	}
	for name, content := range c.VerifyFiles {
		if !verifyFileName.MatchString(name) {
			return fmt.Errorf("verify_files.%s: the name must be MP_verify_<letters or digits>.txt", name)
		}
		if content == "" || len(content) > 1024 || strings.ContainsAny(content, "\r\n") {
			return fmt.Errorf("verify_files.%s: the content must be one line of 1 to 1024 bytes", name)
		}
	}
	for i := range c.Apps {
		a := &c.Apps[i]
		key := fmt.Sprintf("apps[%d]", i)
		for j, h := range a.JSSDK.Domains {
			n, err := normalizeHost(h)
			if err != nil {
				return fmt.Errorf("%s.jssdk.domains[%d]: %v", key, j, err)
			}
			a.JSSDK.Domains[j] = n
		}
		for j, api := range a.JSSDK.JSAPIList {
			if !jsAPIName.MatchString(api) {
				return fmt.Errorf("%s.jssdk.js_api_list[%d]: %q is not a JS interface name", key, j, api)
			}
		}
		if a.Menu != nil {
			if err := validateMenu(a.Menu.Menu()); err != nil {
				return fmt.Errorf("%s.menu.%v", key, err)
			}
			if a.Secret == "" {
				return fmt.Errorf("%s.menu: needs the app's secret (apps[].secret or WXKIT_%s_SECRET) to sync", key, strings.ToUpper(a.AppID))
			}
		}
	}
	return nil
}

var (
	verifyFileName = regexp.MustCompile(`^MP_verify_[0-9A-Za-z]{1,64}\.txt$`)
	jsAPIName      = regexp.MustCompile(`^[A-Za-z][0-9A-Za-z]{0,63}$`)
	hostLabel      = regexp.MustCompile(`^[0-9a-z]([0-9a-z-]{0,61}[0-9a-z])?$`)
)

// normalizeHost checks an allow-list entry, "host" or "host:port" (no
// scheme, path or user info), and returns it lower-cased.
func normalizeHost(h string) (string, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	if h == "" {
		return "", errors.New("empty host")
	}
	if strings.ContainsAny(h, "/\\@?#*") {
		return "", fmt.Errorf("%q must be a host or host:port, without scheme, path or wildcard", h)
	}
	host := h
	if strings.HasPrefix(h, "[") && strings.Contains(h, "]:") || !strings.HasPrefix(h, "[") && strings.Count(h, ":") == 1 {
		hh, port, err := net.SplitHostPort(h)
		if err != nil || port == "" || strings.Trim(port, "0123456789") != "" {
			return "", fmt.Errorf("%q must be a host or host:port", h)
		}
		host = hh
	}
	host = strings.Trim(host, "[]")
	if net.ParseIP(host) != nil {
		return h, nil
	}
	for _, l := range strings.Split(host, ".") {
		if !hostLabel.MatchString(l) {
			return "", fmt.Errorf("%q is not a valid host name", h)
		}
	}
	return h, nil
}

// hostAllowed reports whether u's host is in list (normalized entries): an
// entry with a port matches that host:port only, one without matches the
// host on any port.
func hostAllowed(list []string, u *url.URL) bool {
	host := strings.ToLower(u.Host)
	name := strings.ToLower(u.Hostname())
	for _, e := range list {
		if e == host || e == name || e == "["+name+"]" {
			return true
		}
	}
	return false
}

// Menu converts c to the mp type sent to cgi-bin/menu/create.
func (c *MenuConfig) Menu() *mp.Menu {
	if c == nil {
		return &mp.Menu{}
	}
	return &mp.Menu{Buttons: toMPButtons(c.Button)}
}

func toMPButtons(bs []MenuButton) []mp.Button {
	if len(bs) == 0 {
		return nil
	}
	out := make([]mp.Button, len(bs))
	for i, b := range bs {
		out[i] = mp.Button{Type: mp.ButtonType(b.Type), Name: b.Name, Key: b.Key, URL: b.URL, MediaID: b.MediaID,
			AppID: b.AppID, PagePath: b.PagePath, ArticleID: b.ArticleID, SubButtons: toMPButtons(b.SubButton)}
	}
	return out
}

// MenuConfigOf converts a menu read from WeChat to a MenuConfig (for `wxkit
// menu get`, whose output is a valid menu file).
func MenuConfigOf(m *mp.Menu) *MenuConfig {
	if m == nil {
		return &MenuConfig{}
	}
	return &MenuConfig{Button: fromMPButtons(m.Buttons)}
}

func fromMPButtons(bs []mp.Button) []MenuButton {
	if len(bs) == 0 {
		return nil
	}
	out := make([]MenuButton, len(bs))
	for i, b := range bs {
		out[i] = MenuButton{Type: string(b.Type), Name: b.Name, Key: b.Key, URL: b.URL, MediaID: b.MediaID,
			AppID: b.AppID, PagePath: b.PagePath, ArticleID: b.ArticleID, SubButton: fromMPButtons(b.SubButtons)}
	}
	return out
}

// validateMenu checks m with mp.DefaultMenuLimits. The error starts with
// the path of the offending button ("button[1].sub_button[0] ...") so that
// callers prefix it with their key.
func validateMenu(m *mp.Menu) error {
	err := mp.DefaultMenuLimits().Validate(m)
	if err == nil {
		return nil
	}
	if me, ok := errors.AsType[*mp.MenuError](err); ok {
		if me.Name != "" {
			return fmt.Errorf("%s (%q): %s (WeChat would answer errcode %d)", me.Path, me.Name, me.Reason, me.ErrCode)
		}
		return fmt.Errorf("%s: %s (WeChat would answer errcode %d)", me.Path, me.Reason, me.ErrCode)
	}
	return err
}
