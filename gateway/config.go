package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wxkit/wxkit/wxcrypto"
)

// Config is the configuration of `wxkit serve`, read from YAML. Keys that
// tests and users rely on are listed in docs/DESIGN.md ("Configuration contract");
// unknown keys are refused. Secrets may be given in the environment instead
// of the file (see ApplyEnv).
type Config struct {
	// Listen is the TCP address to serve on, e.g. "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// PublicURL is the externally visible base URL (scheme://host[:port]),
	// used to build OAuth redirect and pay notify URLs. Defaults to
	// "http://" + Listen.
	PublicURL string `yaml:"public_url"`
	// Store is the database: "sqlite://PATH" (default sqlite://wxkit.db;
	// one instance), or "postgres://user:pass@host:5432/db" (any number of
	// instances). Its schema is migrated at start (see OpenStores).
	Store string `yaml:"store"`
	// Redis, when set (redis://host:port/db), holds tokens, locks, dedup
	// claims, OAuth state nonces and sessions (users, the message log and
	// the outbox stay in Store). A "prefix" query parameter
	// (redis://host:6379/0?prefix=wxkit-prod:) is put in front of every
	// key, for deployments or tests sharing one Redis.
	Redis string `yaml:"redis"`
	// WeChat names the platform hosts; the defaults are the real ones.
	WeChat WeChatConfig `yaml:"wechat"`
	// TokenService configures GET /token/{appid}; off when Secret is empty.
	TokenService TokenServiceConfig `yaml:"token_service"`
	// Webhook tunes the message endpoint shared by all apps.
	Webhook WebhookConfig `yaml:"webhook"`
	// Log selects the log format and level.
	Log LogConfig `yaml:"log"`
	// Apps are the Official Accounts served, each at /wx/{appid}.
	Apps []AppConfig `yaml:"apps"`
	// OAuth configures web login: /oauth/login, /oauth/callback, /api/me
	// (see OAuthConfig in config_web.go).
	OAuth OAuthConfig `yaml:"oauth"`
	// Web configures the gateway's own pages (see WebConfig in
	// config_web.go).
	Web WebConfig `yaml:"web"`
	// VerifyFiles are the domain verification files served at the root,
	// name → content: {"MP_verify_abc.txt": "abc"}.
	VerifyFiles map[string]string `yaml:"verify_files"`
	// Pay configures WeChat Pay: merchants, order timeout and paid events
	// (see PayConfig in config_pay.go).
	Pay PayConfig `yaml:"pay"`
	// Components are the Open Platform third-party platforms served at
	// /component/{appid}/... (see ComponentConfig in config_component.go).
	Components []ComponentConfig `yaml:"components"`

	// OpsConfig holds metrics_listen and limits (config_ops.go).
	OpsConfig `yaml:",inline"`
}

// WeChatConfig holds the base URLs of the platform's hosts. Point them all
// at the emulator to develop offline.
type WeChatConfig struct {
	APIBase  string `yaml:"api_base"`  // default https://api.weixin.qq.com
	OpenBase string `yaml:"open_base"` // default https://open.weixin.qq.com
	MPBase   string `yaml:"mp_base"`   // default https://mp.weixin.qq.com (Open Platform authorization page)
	PayBase  string `yaml:"pay_base"`  // default https://api.mch.weixin.qq.com
}

// TokenServiceConfig configures the central token endpoint.
type TokenServiceConfig struct {
	// Secret is the bearer secret callers must present; empty disables the
	// endpoint. Environment: WXKIT_TOKEN_SERVICE_SECRET.
	Secret string `yaml:"secret"`
}

// WebhookConfig tunes the push receiver.
type WebhookConfig struct {
	// TimestampWindow rejects pushes whose timestamp is further than this
	// from now; default 5m, "0s" disables the check.
	TimestampWindow *Duration `yaml:"timestamp_window"`
	// Timeout is the handler deadline, below WeChat's 5 s; default 4.5s.
	Timeout Duration `yaml:"timeout"`
	// MaxBodyBytes caps a push body; default 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// Dedup selects how repeated deliveries (WeChat's retries) are
	// recognised: "store" (default) claims every message in the shared
	// store (Redis when redis: is set, else the SQL store), behind an
	// in-process cache, so that any number of instances run a message's
	// handler once; "memory" keeps claims in process only (one instance);
	// "off" disables dedup. Dedup does not depend on the message log.
	Dedup string `yaml:"dedup"`
	// MessageLog selects how accepted pushes are logged: "durable"
	// (default: written before the reply), "async" (written behind, in
	// batches; a kill -9 loses the last ~50 ms) or "off".
	MessageLog string `yaml:"message_log"`
	// MessageLogRetention is how long logged messages are kept; older ones
	// are deleted in the background, in small batches (default 720h, 30
	// days; "0s" keeps them forever). A row takes about 1 KB.
	MessageLogRetention *Duration `yaml:"message_log_retention"`
}

// Values of WebhookConfig.Dedup.
const (
	DedupStore  = "store"
	DedupMemory = "memory"
	DedupOff    = "off"
)

// LogConfig selects the log output.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug | info | warn | error (default info)
	Format string `yaml:"format"` // text | json (default text)
}

// AppConfig is one Official Account, or one Mini Program (Type).
type AppConfig struct {
	AppID string `yaml:"appid"`
	// Type is official_account (the default) or miniprogram
	// (config_wxa.go).
	Type string `yaml:"type"`
	// Secret is the AppSecret. Environment: WXKIT_<APPID>_SECRET.
	Secret string `yaml:"secret"`
	// Token is the push token (optional for a Mini Program without
	// message push). Environment: WXKIT_<APPID>_TOKEN.
	Token string `yaml:"token"`
	// EncodingAESKey is the 43-character message key, required for compat
	// and safe mode. Environment: WXKIT_<APPID>_ENCODING_AES_KEY.
	EncodingAESKey string `yaml:"encoding_aes_key"`
	// Mode is the message encryption mode: plain | compat | safe (default
	// safe when EncodingAESKey is set, else plain).
	Mode string `yaml:"mode"`
	// Replies are the automatic passive replies.
	Replies RepliesConfig `yaml:"replies"`
	// JSSDK configures GET /jssdk/config for the app (config_web.go).
	JSSDK JSSDKConfig `yaml:"jssdk"`
	// Menu is the app's custom menu, created at start when WeChat's
	// differs (menu.go).
	Menu *MenuConfig `yaml:"menu"`
}

// RepliesConfig holds the auto-reply rules of an app, tried in this order:
// subscribe (for the subscribe event), clicks (CLICK events by EventKey),
// keywords (text messages, first match wins), then default.
type RepliesConfig struct {
	Subscribe *ReplyConfig            `yaml:"subscribe"`
	Keywords  []KeywordRule           `yaml:"keywords"`
	Clicks    map[string]*ReplyConfig `yaml:"clicks"`
	Default   *ReplyConfig            `yaml:"default"`
}

// ReplyConfig is one reply: exactly one of Text, News, Echo or Forward.
type ReplyConfig struct {
	// Text answers with a text message.
	Text string `yaml:"text"`
	// News answers with a news (articles) message of 1 to 8 articles.
	News []ArticleConfig `yaml:"news"`
	// Echo answers a text message with its own content.
	Echo bool `yaml:"echo"`
	// Forward POSTs the message to this URL and relays its answer.
	Forward string `yaml:"forward"`
}

// ArticleConfig is one article of a news reply.
type ArticleConfig struct {
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
	PicURL      string `yaml:"pic_url"`
	URL         string `yaml:"url"`
}

// KeywordRule matches a text message: exactly one of Match (the whole
// content, exact), Contains (a substring) or Regex (RE2 syntax), and a reply
// (the fields of ReplyConfig, inline). In a regex rule's text, $1… expand
// to the submatches.
type KeywordRule struct {
	Match       string `yaml:"match"`
	Contains    string `yaml:"contains"`
	Regex       string `yaml:"regex"`
	ReplyConfig `yaml:",inline"`

	re *regexp.Regexp
}

// Duration is a time.Duration written as a Go duration string ("4.5s").
type Duration time.Duration

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 4.5s, 5m)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Mode values of AppConfig.Mode.
const (
	ModePlain  = "plain"
	ModeCompat = "compat"
	ModeSafe   = "safe"
)

// LoadConfig reads and validates the YAML file at path, then applies
// environment overrides. Errors name the offending key.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes YAML, refusing unknown keys, applies the environment
// (ApplyEnv with os.Getenv), fills defaults and validates.
func ParseConfig(b []byte) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	cfg.ApplyEnv(os.Getenv)
	if err := cfg.Normalize(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// ApplyEnv overrides secrets from the environment: WXKIT_<APPID>_SECRET,
// WXKIT_<APPID>_TOKEN, WXKIT_<APPID>_ENCODING_AES_KEY (APPID upper-cased)
// and WXKIT_TOKEN_SERVICE_SECRET, and the pay secrets (applyPayEnv:
// WXKIT_PAY_ON_PAID_SECRET, WXKIT_PAY_<MCHID>_API_KEY,
// WXKIT_PAY_<MCHID>_API_V3_KEY). A variable that is set and non-empty wins
// over the file.
func (c *Config) ApplyEnv(getenv func(string) string) {
	set := func(dst *string, name string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set(&c.TokenService.Secret, "WXKIT_TOKEN_SERVICE_SECRET")
	set(&c.OAuth.Secret, "WXKIT_OAUTH_SECRET")
	for i := range c.Apps {
		a := &c.Apps[i]
		p := "WXKIT_" + strings.ToUpper(a.AppID) + "_"
		set(&a.Secret, p+"SECRET")
		set(&a.Token, p+"TOKEN")
		set(&a.EncodingAESKey, p+"ENCODING_AES_KEY")
	}
	c.applyPayEnv(getenv)       // config_pay.go
	c.applyComponentEnv(getenv) // config_component.go
}

// Normalize fills defaults and validates c. Errors name the key, e.g.
// "apps[0].encoding_aes_key: must be 43 characters, got 12".
func (c *Config) Normalize() error {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen: %q is not host:port", c.Listen)
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Listen
	}
	if err := checkBaseURL(c.PublicURL); err != nil {
		return fmt.Errorf("public_url: %v", err)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.Store == "" {
		c.Store = "sqlite://wxkit.db"
	}
	if !strings.HasPrefix(c.Store, "sqlite://") && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		return fmt.Errorf("store: %q must be sqlite://PATH or postgres://…", c.Store)
	}
	if c.Redis != "" {
		if u, err := url.Parse(c.Redis); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			return fmt.Errorf("redis: %q must be redis://host:port/db", c.Redis)
		}
	}
	for _, b := range []struct {
		key string
		v   *string
		def string
	}{
		{"wechat.api_base", &c.WeChat.APIBase, DefaultAPIBase},
		{"wechat.open_base", &c.WeChat.OpenBase, "https://open.weixin.qq.com"},
		{"wechat.mp_base", &c.WeChat.MPBase, "https://mp.weixin.qq.com"},
		{"wechat.pay_base", &c.WeChat.PayBase, "https://api.mch.weixin.qq.com"},
	} {
		if *b.v == "" {
			*b.v = b.def
		}
		if err := checkBaseURL(*b.v); err != nil {
			return fmt.Errorf("%s: %v", b.key, err)
		}
		*b.v = strings.TrimRight(*b.v, "/")
	}
	if c.Webhook.TimestampWindow == nil {
		d := Duration(5 * time.Minute)
		c.Webhook.TimestampWindow = &d
	}
	if *c.Webhook.TimestampWindow < 0 {
		return fmt.Errorf("webhook.timestamp_window: must not be negative")
	}
	if c.Webhook.Timeout == 0 {
		c.Webhook.Timeout = Duration(4500 * time.Millisecond)
	}
	if c.Webhook.Timeout < 0 || time.Duration(c.Webhook.Timeout) >= 5*time.Second {
		return fmt.Errorf("webhook.timeout: %s must be above 0 and below WeChat's 5s", time.Duration(c.Webhook.Timeout))
	}
	if c.Webhook.MaxBodyBytes == 0 {
		c.Webhook.MaxBodyBytes = 1 << 20
	}
	if c.Webhook.MaxBodyBytes < 1024 {
		return fmt.Errorf("webhook.max_body_bytes: %d is below 1024", c.Webhook.MaxBodyBytes)
	}
	switch c.Webhook.Dedup {
	case "":
		c.Webhook.Dedup = DedupStore
	case DedupStore, DedupMemory, DedupOff:
	default:
		return fmt.Errorf("webhook.dedup: %q is not store, memory or off", c.Webhook.Dedup)
	}
	if c.Webhook.MessageLogRetention == nil {
		d := Duration(DefaultMessageLogRetention)
		c.Webhook.MessageLogRetention = &d
	}
	if r := time.Duration(*c.Webhook.MessageLogRetention); r < 0 || (r > 0 && r < time.Hour) {
		return fmt.Errorf("webhook.message_log_retention: %s must be 0s (keep forever) or at least 1h", r)
	}
	switch c.Webhook.MessageLog {
	case "":
		c.Webhook.MessageLog = LogDurable
	case LogDurable, LogAsync, LogOff:
	default:
		return fmt.Errorf("webhook.message_log: %q is not durable, async or off", c.Webhook.MessageLog)
	}
	switch c.Log.Level {
	case "":
		c.Log.Level = "info"
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "":
		c.Log.Format = "text"
	case "text", "json":
	default:
		return fmt.Errorf("log.format: %q is not text or json", c.Log.Format)
	}
	seen := map[string]bool{}
	for i := range c.Apps {
		key := fmt.Sprintf("apps[%d]", i)
		if err := c.Apps[i].normalize(key); err != nil {
			return err
		}
		if seen[c.Apps[i].AppID] {
			return fmt.Errorf("%s.appid: %q is configured twice", key, c.Apps[i].AppID)
		}
		seen[c.Apps[i].AppID] = true
	}
	if err := c.normalizeWeb(); err != nil {
		return err
	}
	if err := c.normalizeOps(); err != nil {
		return err
	}
	if err := c.normalizePay(); err != nil { // config_pay.go
		return err
	}
	if err := c.normalizeComponents(); err != nil { // config_component.go
		return err
	}
	return nil
}

var appIDPattern = regexp.MustCompile(`^wx[0-9a-zA-Z]{16}$`)

func (a *AppConfig) normalize(key string) error {
	if a.AppID == "" {
		return fmt.Errorf("%s.appid: required", key)
	}
	if !appIDPattern.MatchString(a.AppID) {
		return fmt.Errorf("%s.appid: %q is not an AppID (wx + 16 letters or digits)", key, a.AppID)
	}
	if err := a.normalizeType(key); err != nil { // config_wxa.go
		return err
	}
	if a.Token == "" && !a.IsMiniProgram() {
		return fmt.Errorf("%s.token: required (the token set in the platform's server configuration)", key)
	}
	if a.Token != "" && (len(a.Token) < 3 || len(a.Token) > 32) {
		return fmt.Errorf("%s.token: must be 3 to 32 characters", key)
	}
	if a.Mode == "" {
		a.Mode = ModePlain
		if a.EncodingAESKey != "" {
			a.Mode = ModeSafe
		}
	}
	switch a.Mode {
	case ModePlain:
	case ModeCompat, ModeSafe:
		if a.EncodingAESKey == "" {
			return fmt.Errorf("%s.encoding_aes_key: required in %s mode", key, a.Mode)
		}
	default:
		return fmt.Errorf("%s.mode: %q is not plain, compat or safe", key, a.Mode)
	}
	if a.EncodingAESKey != "" {
		if _, err := wxcrypto.DecodeAESKey(a.EncodingAESKey); err != nil {
			return fmt.Errorf("%s.encoding_aes_key: must be 43 base64 characters, got %d characters", key, len(a.EncodingAESKey))
		}
	}
	return a.Replies.normalize(key + ".replies")
}

func (r *RepliesConfig) normalize(key string) error {
	if err := r.Subscribe.validate(key+".subscribe", false); err != nil {
		return err
	}
	if err := r.Default.validate(key+".default", true); err != nil {
		return err
	}
	for k, v := range r.Clicks {
		if v == nil {
			return fmt.Errorf("%s.clicks.%s: a reply is required", key, k)
		}
		if err := v.validate(key+".clicks."+k, false); err != nil {
			return err
		}
	}
	for i := range r.Keywords {
		k := &r.Keywords[i]
		kk := fmt.Sprintf("%s.keywords[%d]", key, i)
		n := 0
		for _, s := range []string{k.Match, k.Contains, k.Regex} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("%s: exactly one of match, contains or regex is required", kk)
		}
		if k.Regex != "" {
			re, err := regexp.Compile(k.Regex)
			if err != nil {
				return fmt.Errorf("%s.regex: %v", kk, err)
			}
			k.re = re
		}
		if err := k.ReplyConfig.validate(kk, true); err != nil {
			return err
		}
	}
	return nil
}

func (r *ReplyConfig) validate(key string, allowEcho bool) error {
	if r == nil {
		return nil
	}
	n := 0
	if r.Text != "" {
		n++
	}
	if len(r.News) > 0 {
		n++
	}
	if r.Echo {
		n++
	}
	if r.Forward != "" {
		n++
	}
	if n != 1 {
		return fmt.Errorf("%s: exactly one of text, news, echo or forward is required", key)
	}
	if r.Echo && !allowEcho {
		return fmt.Errorf("%s.echo: only allowed for default and keyword replies", key)
	}
	if len(r.News) > 8 {
		return fmt.Errorf("%s.news: at most 8 articles, got %d", key, len(r.News))
	}
	for i, a := range r.News {
		if a.Title == "" {
			return fmt.Errorf("%s.news[%d].title: required", key, i)
		}
	}
	if r.Forward != "" {
		if err := checkBaseURL(r.Forward); err != nil {
			return fmt.Errorf("%s.forward: %v", key, err)
		}
	}
	return nil
}

func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

// App returns the configured app with the given AppID, or nil.
func (c *Config) App(appID string) *AppConfig {
	for i := range c.Apps {
		if c.Apps[i].AppID == appID {
			return &c.Apps[i]
		}
	}
	return nil
}
