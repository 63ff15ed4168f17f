package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const webConfig = `
public_url: https://wx.example.com
store: sqlite://test.db
oauth:
  secret: "0123456789abcdef-secret"
  state_ttl: 5m
  session_ttl: 24h
  allowed_return_hosts: [Shop.Example.com, "pay.example.com:8443"]
verify_files:
  MP_verify_AbC123.txt: AbC123
apps:
  - appid: wx0123456789abcdef
    secret: appsecret
    token: sometoken
    jssdk:
      domains: [m.example.com]
      js_api_list: [updateAppMessageShareData, chooseImage]
    menu:
      button:
        - { type: click, name: 今日歌曲, key: V1001_TODAY_MUSIC }
        - name: 菜单
          sub_button:
            - { type: view, name: 搜索, url: "https://www.soso.com/" }
`

func TestParseConfigWebKeys(t *testing.T) {
	cfg, err := ParseConfig([]byte(webConfig))
	if err != nil {
		t.Fatalf("ParseConfig = %v", err)
	}
	want := OAuthConfig{Secret: "0123456789abcdef-secret", StateTTL: Duration(5 * time.Minute), SessionTTL: Duration(24 * time.Hour),
		AllowedReturnHosts: []string{"shop.example.com", "pay.example.com:8443"}}
	if d := cmp.Diff(want, cfg.OAuth); d != "" {
		t.Errorf("oauth (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]string{"MP_verify_AbC123.txt": "AbC123"}, cfg.VerifyFiles); d != "" {
		t.Errorf("verify_files (-want +got):\n%s", d)
	}
	a := cfg.Apps[0]
	if d := cmp.Diff(JSSDKConfig{Domains: []string{"m.example.com"}, JSAPIList: []string{"updateAppMessageShareData", "chooseImage"}}, a.JSSDK); d != "" {
		t.Errorf("jssdk (-want +got):\n%s", d)
	}
	wantMenu := &MenuConfig{Button: []MenuButton{
		{Type: "click", Name: "今日歌曲", Key: "V1001_TODAY_MUSIC"},
		{Name: "菜单", SubButton: []MenuButton{{Type: "view", Name: "搜索", URL: "https://www.soso.com/"}}},
	}}
	if d := cmp.Diff(wantMenu, a.Menu); d != "" {
		t.Errorf("menu (-want +got):\n%s", d)
	}

	// Defaults.
	cfg, err = ParseConfig([]byte("apps: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OAuth.StateTTL != Duration(DefaultStateTTL) || cfg.OAuth.SessionTTL != Duration(DefaultSessionTTL) {
		t.Errorf("defaults: state_ttl %v session_ttl %v", time.Duration(cfg.OAuth.StateTTL), time.Duration(cfg.OAuth.SessionTTL))
	}
}

func TestOAuthSecretFromEnvironment(t *testing.T) {
	var c Config
	c.ApplyEnv(func(k string) string {
		if k == "WXKIT_OAUTH_SECRET" {
			return "from-the-environment"
		}
		return ""
	})
	if c.OAuth.Secret != "from-the-environment" {
		t.Errorf("oauth.secret = %q, want the environment's", c.OAuth.Secret)
	}
}

func TestParseConfigWebErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	app := "apps:\n  - { appid: wx0123456789abcdef, secret: s, token: tok, %s }\n"
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"short secret", "oauth: { secret: short }\n", "oauth.secret: must be at least 16"},
		{"bad state_ttl", "oauth: { state_ttl: 48h }\n", "oauth.state_ttl"},
		{"bad session_ttl", "oauth: { session_ttl: 1s }\n", "oauth.session_ttl"},
		{"host with scheme", "oauth: { allowed_return_hosts: [\"https://a.example\"] }\n", "oauth.allowed_return_hosts[0]"},
		{"wildcard host", "oauth: { allowed_return_hosts: [\"*.a.example\"] }\n", "oauth.allowed_return_hosts[0]"},
		{"unknown oauth key", "oauth: { secrett: x }\n", "secrett"},
		{"verify file name", "verify_files: { \"../etc/passwd\": x }\n", "verify_files.../etc/passwd"},
		{"verify file content", "verify_files: { MP_verify_a.txt: \"\" }\n", "verify_files.MP_verify_a.txt"},
		{"jssdk domain", strings.Replace(app, "%s", "jssdk: { domains: [\"a.example/x\"] }", 1), "apps[0].jssdk.domains[0]"},
		{"jssdk api", strings.Replace(app, "%s", "jssdk: { js_api_list: [\"a b\"] }", 1), "apps[0].jssdk.js_api_list[0]"},
		{"menu too many buttons", strings.Replace(app, "%s", "menu: { button: [{type: click, name: a, key: a}, {type: click, name: b, key: b}, {type: click, name: c, key: c}, {type: click, name: d, key: d}] }", 1),
			"apps[0].menu.button: 4 buttons"},
		{"menu bad sub button", strings.Replace(app, "%s", "menu: { button: [{name: m, sub_button: [{type: view, name: v}]}] }", 1),
			"apps[0].menu.button[0].sub_button[0]"},
		{"menu unknown key", strings.Replace(app, "%s", "menu: { button: [{type: click, name: a, key: a, colour: red}] }", 1), "colour"},
		{"menu without secret", "apps:\n  - { appid: wx0123456789abcdef, token: tok, menu: { button: [{type: click, name: a, key: a}] } }\n", "apps[0].menu: needs the app's secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseConfig = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestNormalizeHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"Example.COM", "example.com", true},
		{"example.com:8443", "example.com:8443", true},
		{"127.0.0.1:8080", "127.0.0.1:8080", true},
		{"[::1]:8080", "[::1]:8080", true},
		{"::1", "::1", true},
		{"", "", false},
		{"example.com:", "", false},
		{"example.com:abc", "", false},
		{"user@example.com", "", false},
		{"exa mple.com", "", false},
		{"-bad.example", "", false},
	} {
		got, err := normalizeHost(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("normalizeHost(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
