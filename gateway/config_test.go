package gateway

import (
	"strings"
	"testing"
	"time"
)

const validConfig = `
listen: 127.0.0.1:9090
public_url: https://wx.example.com/
store: sqlite://test.db
wechat:
  api_base: http://127.0.0.1:7070
apps:
  - appid: wx0123456789abcdef
    secret: appsecret
    token: benchtoken
    encoding_aes_key: abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
    mode: safe
    replies:
      subscribe: { text: "欢迎关注" }
      keywords:
        - { match: "hello", text: "world" }
        - { contains: "价格", text: "100 元" }
        - { regex: "^订单(\\d+)$", text: "订单 $1 已发货" }
      clicks: { V1001_TODAY_MUSIC: { text: "今日歌曲" } }
      default: { echo: true }
`

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(validConfig))
	if err != nil {
		t.Fatalf("ParseConfig(valid) = %v", err)
	}
	if cfg.PublicURL != "https://wx.example.com" {
		t.Errorf("PublicURL = %q, want trailing slash trimmed", cfg.PublicURL)
	}
	if cfg.WeChat.APIBase != "http://127.0.0.1:7070" || cfg.WeChat.OpenBase != "https://open.weixin.qq.com" {
		t.Errorf("WeChat = %+v", cfg.WeChat)
	}
	if got := time.Duration(*cfg.Webhook.TimestampWindow); got != 5*time.Minute {
		t.Errorf("TimestampWindow default = %v", got)
	}
	if got := time.Duration(cfg.Webhook.Timeout); got != 4500*time.Millisecond {
		t.Errorf("Timeout default = %v", got)
	}
	a := cfg.App("wx0123456789abcdef")
	if a == nil || a.Mode != ModeSafe || len(a.Replies.Keywords) != 3 || a.Replies.Keywords[2].re == nil {
		t.Fatalf("app = %+v", a)
	}
	if !a.Replies.Default.Echo || a.Replies.Clicks["V1001_TODAY_MUSIC"].Text != "今日歌曲" {
		t.Errorf("replies = %+v", a.Replies)
	}
}

func TestParseConfigErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		wantKey string
	}{
		{"unknown top key", func(s string) string { return s + "bogus: 1\n" }, "bogus"},
		{"unknown app key", func(s string) string { return strings.Replace(s, "mode: safe", "mode: safe\n    colour: red", 1) }, "colour"},
		{"bad mode", func(s string) string { return strings.Replace(s, "mode: safe", "mode: secret", 1) }, "apps[0].mode"},
		{"short aes key", func(s string) string {
			return strings.Replace(s, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "short", 1)
		}, "apps[0].encoding_aes_key"},
		{"bad appid", func(s string) string { return strings.Replace(s, "wx0123456789abcdef", "nope", 1) }, "apps[0].appid"},
		{"missing token", func(s string) string { return strings.Replace(s, "token: benchtoken", "", 1) }, "apps[0].token"},
		{"two match kinds", func(s string) string {
			return strings.Replace(s, `{ match: "hello", text: "world" }`, `{ match: "a", contains: "b", text: "c" }`, 1)
		}, "apps[0].replies.keywords[0]"},
		{"bad regex", func(s string) string { return strings.Replace(s, `"^订单(\\d+)$"`, `"(unclosed"`, 1) }, "apps[0].replies.keywords[2].regex"},
		{"empty reply", func(s string) string { return strings.Replace(s, `{ text: "欢迎关注" }`, `{}`, 1) }, "apps[0].replies.subscribe"},
		{"echo on subscribe", func(s string) string { return strings.Replace(s, `{ text: "欢迎关注" }`, `{ echo: true }`, 1) }, "apps[0].replies.subscribe.echo"},
		{"bad listen", func(s string) string { return strings.Replace(s, "127.0.0.1:9090", "nowhere", 1) }, "listen"},
		{"bad store", func(s string) string { return strings.Replace(s, "sqlite://test.db", "mysql://x", 1) }, "store"},
		{"bad api base", func(s string) string { return strings.Replace(s, "http://127.0.0.1:7070", "ftp://x", 1) }, "wechat.api_base"},
		{"duplicate app", func(s string) string {
			i := strings.Index(s, "  - appid")
			return s + s[i:]
		}, "apps[1].appid"},
		{"timeout too long", func(s string) string { return s + "webhook: { timeout: 5s }\n" }, "webhook.timeout"},
		{"bad duration", func(s string) string { return s + "webhook: { timeout: soon }\n" }, "soon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.edit(validConfig)))
			if err == nil {
				t.Fatalf("ParseConfig = nil error, want one naming %q", tt.wantKey)
			}
			if !strings.Contains(err.Error(), tt.wantKey) {
				t.Errorf("ParseConfig error %q does not name %q", err, tt.wantKey)
			}
		})
	}
}

func TestApplyEnvOverridesSecrets(t *testing.T) {
	env := map[string]string{
		"WXKIT_WX0123456789ABCDEF_SECRET": "from-env",
		"WXKIT_TOKEN_SERVICE_SECRET":      "svc",
	}
	cfg, err := ParseConfig([]byte(validConfig))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ApplyEnv(func(k string) string { return env[k] })
	if got := cfg.Apps[0].Secret; got != "from-env" {
		t.Errorf("Secret = %q, want from-env", got)
	}
	if got := cfg.Apps[0].Token; got != "benchtoken" {
		t.Errorf("Token = %q, want the file's value when the env is unset", got)
	}
	if got := cfg.TokenService.Secret; got != "svc" {
		t.Errorf("TokenService.Secret = %q", got)
	}
}

func TestEmptyConfigGetsDefaults(t *testing.T) {
	cfg, err := ParseConfig(nil)
	if err != nil {
		t.Fatalf("ParseConfig(empty) = %v", err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.Store != "sqlite://wxkit.db" || cfg.WeChat.APIBase != "https://api.weixin.qq.com" {
		t.Errorf("defaults = %+v", cfg)
	}
}
