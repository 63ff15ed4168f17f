package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wxkit/wxkit/wxcrypto"
)

// Mode is the message encryption mode of an Official Account (消息加解密方式).
type Mode string

// The three push modes. ModePlain pushes plaintext XML signed with
// "signature"; ModeCompat pushes the plaintext fields and an <Encrypt>
// element together; ModeSafe pushes only the <Encrypt> envelope with
// "msg_signature".
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
const (
	ModePlain  Mode = "plain"
	ModeCompat Mode = "compat"
	ModeSafe   Mode = "safe"
)

// Config is the whole emulator configuration: the accounts it hosts, how it
// pushes and the platform limits it enforces. Build it in Go or load it from
// YAML with LoadConfig / ParseConfig. Zero values in Push and Limits take the
// real platform's defaults (see PushConfig and Limits).
type Config struct {
	Apps   []AppConfig `yaml:"apps" json:"apps"`
	Push   PushConfig  `yaml:"push" json:"push"`
	Limits Limits      `yaml:"limits" json:"limits"`
	// Merchants are the WeChat Pay merchants (see MerchantConfig).
	Merchants []MerchantConfig `yaml:"merchants" json:"merchants"`
	// Components are the Open Platform third-party platforms (see
	// ComponentConfig).
	Components []ComponentConfig `yaml:"components" json:"components,omitempty"`
}

// AppType is the kind of a hosted account.
type AppType string

// The account kinds: an Official Account (公众号) or a Mini Program (小程序).
// A Mini Program logs users in with jscode2session, decrypts their data with
// a session_key and receives customer-service messages in XML or JSON.
const (
	AppTypeOfficialAccount AppType = "official_account"
	AppTypeMiniProgram     AppType = "miniprogram"
)

// PushFormat is the data format (数据格式) of a Mini Program's message push.
type PushFormat string

// The push formats. Official Accounts, and every account reached through
// a third-party platform, are always pushed XML.
const (
	PushFormatXML  PushFormat = "xml"
	PushFormatJSON PushFormat = "json"
)

// AppConfig is one account (Official Account or Mini Program) hosted by
// the emulator.
type AppConfig struct {
	// AppID is the account's AppID, "wx" + 16 hex characters on the real
	// platform (not enforced). Required and unique.
	AppID string `yaml:"appid" json:"appid"`
	// Type is official_account (the default) or miniprogram.
	Type AppType `yaml:"type" json:"type"`
	// Secret is the AppSecret checked by /cgi-bin/token and stable_token. Required.
	Secret string `yaml:"secret" json:"-"`
	// Token is the push Token (3-32 letters or digits) used for signatures. Required.
	Token string `yaml:"token" json:"-"`
	// EncodingAESKey is the 43-character message key; required in compat
	// and safe mode.
	EncodingAESKey string `yaml:"encoding_aes_key" json:"-"`
	// Mode is plain, compat or safe; empty means plain.
	Mode Mode `yaml:"mode" json:"mode"`
	// OriginalID is the account's original id (原始ID, "gh_" + 12 hex), the
	// ToUserName of every push. Derived from AppID when empty.
	OriginalID string `yaml:"original_id" json:"original_id"`
	// Name is the account's display name (for the UI).
	Name string `yaml:"name" json:"name"`
	// PushURL is the developer's server URL (服务器地址) that messages are
	// pushed to. May be empty and set later with Emulator.SetPushURL.
	PushURL string `yaml:"push_url" json:"push_url"`
	// IPWhitelist, when not empty, lists the IPs (or CIDRs) allowed to call
	// /cgi-bin/token and /cgi-bin/stable_token; others get 40164.
	IPWhitelist []string `yaml:"ip_whitelist" json:"ip_whitelist,omitempty"`
	// Users are the account's followers. An entry without an OpenID gets a
	// realistic one derived from the AppID and its position (stable across runs).
	Users []UserConfig `yaml:"users" json:"users"`
	// OAuth holds the web-authorization settings (used by the OAuth routes).
	OAuth OAuthConfig `yaml:"oauth" json:"oauth"`
	// JSDomains are the JS接口安全域名 (host[:port]) whose pages may call
	// wx.config; a page elsewhere gets "config:invalid url domain". Empty
	// means the host of the push URL, as for OAuth (so in dev mode, the
	// gateway's host:port).
	JSDomains []string `yaml:"js_domains" json:"js_domains,omitempty"`
	// PushFormat is the data format of a Mini Program's pushes: xml (the
	// default) or json. Official Accounts are always pushed XML.
	PushFormat PushFormat `yaml:"push_format" json:"push_format,omitempty"`
	// Pages are the pages of a Mini Program's released version
	// ("pages/index/index"), which wxa/getwxacodeunlimit checks with
	// check_path; empty means any well-formed page exists.
	Pages []string `yaml:"pages" json:"pages,omitempty"`
	// AutoReply is the account's automatic replies as set up on the
	// website, reported by get_current_autoreply_info; off when zero.
	AutoReply AutoReplyConfig `yaml:"auto_reply" json:"auto_reply,omitzero"`
	// Subscription makes an Official Account a subscription account (订阅号)
	// rather than a service account (服务号, the default): one mass send a
	// day instead of four a month, and no mass/send by OpenID list (48001).
	Subscription bool `yaml:"subscription" json:"subscription,omitempty"`
	// Unverified makes the account one that has not passed WeChat
	// verification (未认证): the customer-service account and mass-send
	// APIs answer 48001.
	Unverified bool `yaml:"unverified" json:"unverified,omitempty"`
}

// OAuthConfig holds the web authorization settings of an app.
type OAuthConfig struct {
	// Domains are the 网页授权域名 allowed in redirect_uri (host[:port]).
	Domains []string `yaml:"domains" json:"domains,omitempty"`
	// AutoApprove, when set, is the openid of one of the app's users who
	// consents at once on the authorize page, for both scopes, with no page
	// shown: for automated tests, which have no one to press 允许.
	AutoApprove string `yaml:"auto_approve" json:"auto_approve,omitempty"`
}

// UserConfig is one WeChat user as seen by one account.
type UserConfig struct {
	OpenID   string `yaml:"openid" json:"openid"`
	UnionID  string `yaml:"unionid" json:"unionid,omitempty"`
	Nickname string `yaml:"nickname" json:"nickname"`
	Sex      int    `yaml:"sex" json:"sex"` // 0 unknown, 1 male, 2 female
	City     string `yaml:"city" json:"city,omitempty"`
	Province string `yaml:"province" json:"province,omitempty"`
	Country  string `yaml:"country" json:"country,omitempty"`
	Language string `yaml:"language" json:"language,omitempty"`
	// HeadImgURL is the user's head image; when empty sns/userinfo answers
	// the emulator's drawn avatar, /mmopen/vi_32/<openid>/132.
	HeadImgURL string `yaml:"headimgurl" json:"headimgurl,omitempty"`
	// Subscribed tells whether the user follows the account; nil means true.
	Subscribed *bool `yaml:"subscribed" json:"subscribed,omitempty"`
	// PhoneNumber is the user's phone number without country code, handed
	// out by wxa/business/getuserphonenumber; derived from the openid
	// (a mainland number, "1" + 10 digits) when empty.
	PhoneNumber string `yaml:"phone_number" json:"phone_number,omitempty"`
	// CountryCode is the phone number's country code, "86" when empty.
	CountryCode string `yaml:"country_code" json:"country_code,omitempty"`
}

// PushConfig controls message delivery to PushURL.
type PushConfig struct {
	// Timeout is how long WeChat waits for an answer to one delivery; 5 s
	// when zero.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// Attempts is the number of deliveries in total (the first plus the
	// retries) of a message that times out or fails; 3 when zero (WeChat's
	// "重试三次", which users observe as three deliveries in total).
	Attempts int `yaml:"attempts" json:"attempts"`
}

// Limits are the platform quotas and lifetimes. Zero fields take the
// defaults of the real platform (docs/PLATFORM.md), given per field.
type Limits struct {
	// TokenDaily is the /cgi-bin/token daily quota per app (2000).
	TokenDaily int `yaml:"token_daily" json:"token_daily"`
	// TokenLifetime is the access_token lifetime, reported as expires_in (2h).
	TokenLifetime time.Duration `yaml:"token_lifetime" json:"token_lifetime"`
	// TokenOverlap is how long the previous /cgi-bin/token token stays valid
	// after a new one is fetched (5m).
	TokenOverlap time.Duration `yaml:"token_overlap" json:"token_overlap"`
	// StableTokenDaily is the stable_token daily quota per app (500000).
	StableTokenDaily int `yaml:"stable_token_daily" json:"stable_token_daily"`
	// StableTokenRotateEarly is how long before expiry stable_token hands out
	// a new token (5m), so that expires_in is at least this at any call.
	StableTokenRotateEarly time.Duration `yaml:"stable_token_rotate_early" json:"stable_token_rotate_early"`
	// StableForceDaily is the number of force_refresh=true refreshes per day (20).
	StableForceDaily int `yaml:"stable_force_daily" json:"stable_force_daily"`
	// StableForceInterval is the minimum time between two forced refreshes
	// (30s); a forced call inside it returns the current token unchanged.
	StableForceInterval time.Duration `yaml:"stable_force_interval" json:"stable_force_interval"`
	// TicketLifetime is the jsapi_ticket / wx_card ticket lifetime (2h).
	TicketLifetime time.Duration `yaml:"ticket_lifetime" json:"ticket_lifetime"`
	// Daily overrides the daily quota of other APIs, keyed by path
	// ("/cgi-bin/menu/create": 1000); every call of the app counts, and a
	// call over the quota gets 45009 (see openapi/quota/get).
	Daily map[string]int `yaml:"daily" json:"daily,omitempty"`
	// JSCode2SessionPerMinute is how many sns/jscode2session calls one
	// Mini Program user may cause in a minute (100; then 45011).
	JSCode2SessionPerMinute int `yaml:"jscode2session_per_minute" json:"jscode2session_per_minute"`
	// WXACodePerMinute is how many wxa/getwxacodeunlimit calls one Mini
	// Program may make in a minute (5000; then 45009).
	WXACodePerMinute int `yaml:"wxacode_per_minute" json:"wxacode_per_minute"`
	// ComponentTicketInterval is how often a third-party platform is pushed
	// a fresh component_verify_ticket (10m).
	ComponentTicketInterval time.Duration `yaml:"component_ticket_interval" json:"component_ticket_interval"`
	// ComponentTicketLifetime is how long a component_verify_ticket stays
	// usable by api_component_token (12h; then 61005).
	ComponentTicketLifetime time.Duration `yaml:"component_ticket_lifetime" json:"component_ticket_lifetime"`
}

// Defaults of the real platform, used for zero fields.
const (
	DefaultPushTimeout            = 5 * time.Second
	DefaultPushAttempts           = 3
	DefaultTokenDaily             = 2000
	DefaultTokenLifetime          = 7200 * time.Second
	DefaultTokenOverlap           = 5 * time.Minute
	DefaultStableTokenDaily       = 500000
	DefaultStableTokenRotateEarly = 5 * time.Minute
	DefaultStableForceDaily       = 20
	DefaultStableForceInterval    = 30 * time.Second
	DefaultTicketLifetime         = 7200 * time.Second
	// DefaultJSCode2SessionPerMinute is jscode2session's "每个用户每分钟100次".
	DefaultJSCode2SessionPerMinute = 100
	// DefaultWXACodePerMinute is getwxacodeunlimit's 5000 calls a minute.
	DefaultWXACodePerMinute = 5000
	// DefaultComponentTicketInterval is the component_verify_ticket push interval.
	DefaultComponentTicketInterval = 10 * time.Minute
	// DefaultComponentTicketLifetime is the component_verify_ticket lifetime.
	DefaultComponentTicketLifetime = 12 * time.Hour
)

// withDefaults returns c with every zero limit replaced by its default.
func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	def(&c.Push.Timeout, DefaultPushTimeout)
	defInt(&c.Push.Attempts, DefaultPushAttempts)
	l := &c.Limits
	defInt(&l.TokenDaily, DefaultTokenDaily)
	def(&l.TokenLifetime, DefaultTokenLifetime)
	def(&l.TokenOverlap, DefaultTokenOverlap)
	defInt(&l.StableTokenDaily, DefaultStableTokenDaily)
	def(&l.StableTokenRotateEarly, DefaultStableTokenRotateEarly)
	defInt(&l.StableForceDaily, DefaultStableForceDaily)
	def(&l.StableForceInterval, DefaultStableForceInterval)
	def(&l.TicketLifetime, DefaultTicketLifetime)
	defInt(&l.JSCode2SessionPerMinute, DefaultJSCode2SessionPerMinute)
	defInt(&l.WXACodePerMinute, DefaultWXACodePerMinute)
	def(&l.ComponentTicketInterval, DefaultComponentTicketInterval)
	def(&l.ComponentTicketLifetime, DefaultComponentTicketLifetime)
	apps := make([]AppConfig, len(c.Apps))
	for i, a := range c.Apps {
		if a.Mode == "" {
			a.Mode = ModePlain
		}
		if a.Type == "" {
			a.Type = AppTypeOfficialAccount
		}
		if a.Type == AppTypeMiniProgram && a.PushFormat == "" {
			a.PushFormat = PushFormatXML
		}
		if a.OriginalID == "" {
			a.OriginalID = deriveOriginalID(a.AppID)
		}
		users := make([]UserConfig, len(a.Users))
		for j, u := range a.Users {
			if u.OpenID == "" {
				u.OpenID = deriveOpenID(a.AppID, j)
			}
			users[j] = u
		}
		a.Users = users
		apps[i] = a
	}
	c.Apps = apps
	c.Merchants = merchantsWithDefaults(c.Merchants)
	c.Components = componentsWithDefaults(c.Components)
	return c
}

// ConfigError reports an invalid configuration value; Key names it in YAML
// form, e.g. "apps[0].mode".
type ConfigError struct {
	Key string
	Err error
}

// Error returns "emulator: config: KEY: reason".
func (e *ConfigError) Error() string { return "emulator: config: " + e.Key + ": " + e.Err.Error() }

// Unwrap returns the underlying reason.
func (e *ConfigError) Unwrap() error { return e.Err }

// Validate checks c and returns a *ConfigError naming the first bad key.
// Defaults are applied before checking, so zero limits are valid.
func (c Config) Validate() error {
	c = c.withDefaults()
	bad := func(key string, format string, args ...any) error {
		return &ConfigError{Key: key, Err: fmt.Errorf(format, args...)}
	}
	if c.Push.Timeout < 0 {
		return bad("push.timeout", "must be positive, got %s", c.Push.Timeout)
	}
	if c.Push.Attempts < 1 || c.Push.Attempts > 10 {
		return bad("push.attempts", "must be 1..10, got %d", c.Push.Attempts)
	}
	for key, n := range map[string]int{
		"limits.token_daily": c.Limits.TokenDaily, "limits.stable_token_daily": c.Limits.StableTokenDaily,
		"limits.stable_force_daily":        c.Limits.StableForceDaily,
		"limits.jscode2session_per_minute": c.Limits.JSCode2SessionPerMinute,
		"limits.wxacode_per_minute":        c.Limits.WXACodePerMinute,
	} {
		if n < 0 {
			return bad(key, "must not be negative, got %d", n)
		}
	}
	for key, d := range map[string]time.Duration{
		"limits.token_lifetime": c.Limits.TokenLifetime, "limits.token_overlap": c.Limits.TokenOverlap,
		"limits.stable_token_rotate_early": c.Limits.StableTokenRotateEarly,
		"limits.stable_force_interval":     c.Limits.StableForceInterval,
		"limits.ticket_lifetime":           c.Limits.TicketLifetime,
		"limits.component_ticket_interval": c.Limits.ComponentTicketInterval,
		"limits.component_ticket_lifetime": c.Limits.ComponentTicketLifetime,
	} {
		if d < 0 {
			return bad(key, "must not be negative, got %s", d)
		}
	}
	if c.Limits.StableTokenRotateEarly >= c.Limits.TokenLifetime {
		return bad("limits.stable_token_rotate_early", "must be shorter than limits.token_lifetime")
	}
	seen := map[string]bool{}
	for i, a := range c.Apps {
		p := fmt.Sprintf("apps[%d].", i)
		if a.AppID == "" {
			return bad(p+"appid", "required")
		}
		if seen[a.AppID] {
			return bad(p+"appid", "duplicate appid %q", a.AppID)
		}
		seen[a.AppID] = true
		if a.Secret == "" {
			return bad(p+"secret", "required")
		}
		if !validPushToken(a.Token) {
			return bad(p+"token", "must be 3-32 letters or digits")
		}
		switch a.Mode {
		case ModePlain:
			if a.EncodingAESKey != "" {
				if _, err := wxcrypto.NewCipher(a.EncodingAESKey, a.AppID); err != nil {
					return bad(p+"encoding_aes_key", "must be 43 base64 characters")
				}
			}
		case ModeCompat, ModeSafe:
			if _, err := wxcrypto.NewCipher(a.EncodingAESKey, a.AppID); err != nil {
				return bad(p+"encoding_aes_key", "must be 43 base64 characters in %s mode", a.Mode)
			}
		default:
			return bad(p+"mode", "invalid value %q (want plain, compat or safe)", a.Mode)
		}
		switch a.Type {
		case AppTypeOfficialAccount:
			if a.PushFormat != "" && a.PushFormat != PushFormatXML {
				return bad(p+"push_format", "an official account is always pushed xml, got %q", a.PushFormat)
			}
		case AppTypeMiniProgram:
			if a.PushFormat != PushFormatXML && a.PushFormat != PushFormatJSON {
				return bad(p+"push_format", "invalid value %q (want xml or json)", a.PushFormat)
			}
		default:
			return bad(p+"type", "invalid value %q (want official_account or miniprogram)", a.Type)
		}
		for j, pg := range a.Pages {
			if !validWXAPage(pg) {
				return bad(fmt.Sprintf("%spages[%d]", p, j), "must be a page path such as pages/index/index (no leading /, no query), got %q", pg)
			}
		}
		if a.PushURL != "" {
			u, err := url.Parse(a.PushURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return bad(p+"push_url", "must be an absolute http(s) URL, got %q", a.PushURL)
			}
		}
		for j, ip := range a.IPWhitelist {
			if _, _, err := net.ParseCIDR(ip); err != nil && net.ParseIP(ip) == nil {
				return bad(fmt.Sprintf("%sip_whitelist[%d]", p, j), "not an IP or CIDR: %q", ip)
			}
		}
		openids := map[string]bool{}
		for j, u := range a.Users {
			if openids[u.OpenID] {
				return bad(fmt.Sprintf("%susers[%d].openid", p, j), "duplicate openid %q", u.OpenID)
			}
			openids[u.OpenID] = true
			if u.Sex < 0 || u.Sex > 2 {
				return bad(fmt.Sprintf("%susers[%d].sex", p, j), "must be 0, 1 or 2")
			}
			if u.PhoneNumber != "" && !isDigits(u.PhoneNumber, 5, 20) {
				return bad(fmt.Sprintf("%susers[%d].phone_number", p, j), "must be 5 to 20 digits, got %q", u.PhoneNumber)
			}
			if u.CountryCode != "" && !isDigits(u.CountryCode, 1, 4) {
				return bad(fmt.Sprintf("%susers[%d].country_code", p, j), "must be 1 to 4 digits, got %q", u.CountryCode)
			}
		}
		if err := validateAutoReply(p+"auto_reply", a.AutoReply); err != nil {
			return err
		}
		if aa := a.OAuth.AutoApprove; aa != "" && !openids[aa] {
			return bad(p+"oauth.auto_approve", "%q is not one of the app's users", aa)
		}
	}
	if err := validateMerchants(c.Merchants); err != nil {
		return err
	}
	return validateComponents(c.Components, seen)
}

// isDigits reports whether s is min to max ASCII digits.
func isDigits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validPushToken reports whether tok follows WeChat's rule for the push
// Token: 3 to 32 English letters or digits.
func validPushToken(tok string) bool {
	if len(tok) < 3 || len(tok) > 32 {
		return false
	}
	for _, c := range tok {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// LoadConfig reads a YAML configuration file. Unknown keys are refused; the
// error names the key (and line). The result is validated.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("emulator: config: %w", err)
	}
	return ParseConfig(b)
}

// ParseConfig decodes and validates a YAML configuration.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("emulator: config: %w", nameYAMLKeys(b, err))
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Demo values of DefaultConfig. They are fixed so that a development setup
// (wxkit serve with no configuration) is repeatable across restarts.
const (
	DemoAppID          = "wx0123456789abcdef"
	DemoSecret         = "0123456789abcdef0123456789abcdef"
	DemoToken          = "wxkitdemotoken"
	DemoEncodingAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	DemoOriginalID     = "gh_0123456789ab"
	DemoPushURL        = "http://127.0.0.1:8080/wx/" + DemoAppID
)

// DefaultConfig returns the development configuration: one safe-mode demo
// app (DemoAppID, pushing to DemoPushURL, the default `wxkit serve` address)
// with three followers, a demo WeChat Pay merchant (DemoMchID, v2 and v3,
// keys generated on first use: see Emulator.MerchantKey and
// Emulator.PlatformKey) and the real platform's limits.
func DefaultConfig() Config {
	return Config{
		Apps: []AppConfig{{
			AppID:          DemoAppID,
			Secret:         DemoSecret,
			Token:          DemoToken,
			EncodingAESKey: DemoEncodingAESKey,
			Mode:           ModeSafe,
			OriginalID:     DemoOriginalID,
			Name:           "wxkit 演示号",
			PushURL:        DemoPushURL,
			OAuth:          OAuthConfig{Domains: []string{"127.0.0.1:8080", "localhost:8080"}},
			Users: []UserConfig{
				{OpenID: "oWxkt1Qy6Fh0bK7Xc2Lp9Tn3Rs4A", Nickname: "张三", Sex: 1, City: "深圳", Province: "广东", Country: "中国", Language: "zh_CN"},
				{OpenID: "oWxkt1Vd8Jm5Gz1Nw6Hq0Ye7Uk2B", Nickname: "李四", Sex: 2, City: "杭州", Province: "浙江", Country: "中国", Language: "zh_CN"},
				{OpenID: "oWxkt1Ba3Ks9Pr4Ct8Mx5Zf1Wg6C", Nickname: "Alice", Sex: 0, City: "", Province: "", Country: "", Language: "en"},
			},
		}},
		Merchants: []MerchantConfig{demoMerchant()},
	}
}

// deriveOriginalID returns a stable "gh_" + 12 hex original id for appID.
func deriveOriginalID(appID string) string {
	sum := sha256.Sum256([]byte("original_id:" + appID))
	return "gh_" + hex.EncodeToString(sum[:6])
}

// deriveOpenID returns a stable, realistic openid for the i-th user of appID:
// "o" + 27 base64url characters, where the first 5 are shared by all users
// of the app, as on the real platform.
func deriveOpenID(appID string, i int) string {
	app := sha256.Sum256([]byte("openid-prefix:" + appID))
	usr := sha256.Sum256(fmt.Appendf(nil, "openid:%s:%d", appID, i))
	enc := base64.RawURLEncoding
	return "o" + enc.EncodeToString(app[:])[:5] + enc.EncodeToString(usr[:])[:22]
}

// ipAllowed reports whether ip is in list (IPs or CIDRs).
func ipAllowed(list []string, ip net.IP) bool {
	for _, s := range list {
		if _, n, err := net.ParseCIDR(s); err == nil {
			if n.Contains(ip) {
				return true
			}
			continue
		}
		if w := net.ParseIP(strings.TrimSpace(s)); w != nil && w.Equal(ip) {
			return true
		}
	}
	return false
}

// lineRE finds the "line N:" prefixes of yaml.v3 errors.
var lineRE = regexp.MustCompile(`line (\d+): `)

// nameYAMLKeys rewrites the "line N: ..." parts of a yaml error as
// "line N (apps[0].mode): ..." so that the message names the key.
func nameYAMLKeys(src []byte, err error) error {
	var root yaml.Node
	if yaml.Unmarshal(src, &root) != nil {
		return err
	}
	paths := map[int]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if _, ok := paths[k.Line]; !ok {
					paths[k.Line] = p
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if _, ok := paths[c.Line]; !ok {
					paths[c.Line] = p
				}
				walk(c, p)
			}
		}
	}
	walk(&root, "")
	msg := lineRE.ReplaceAllStringFunc(err.Error(), func(m string) string {
		n, _ := strconv.Atoi(lineRE.FindStringSubmatch(m)[1])
		if p, ok := paths[n]; ok {
			return fmt.Sprintf("line %d (%s): ", n, p)
		}
		return m
	})
	return &yamlError{msg: msg, err: err}
}

// yamlError is a yaml error with key names added to its message.
type yamlError struct {
	msg string
	err error
}

func (e *yamlError) Error() string { return e.msg }
func (e *yamlError) Unwrap() error { return e.err }
