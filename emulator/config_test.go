package emulator

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseConfig(t *testing.T) {
	t.Parallel()
	y := `
apps:
  - appid: wx1111111111111111
    secret: s3cret
    token: tok123
    encoding_aes_key: abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
    mode: compat
    push_url: http://127.0.0.1:9000/wx
    ip_whitelist: [127.0.0.1, 10.0.0.0/8]
    users:
      - nickname: 张三
        sex: 1
      - openid: oABCDE1234567890123456789012
        subscribed: false
push:
  timeout: 2s
  attempts: 2
limits:
  token_daily: 10
  stable_force_interval: 1m
  daily:
    /cgi-bin/menu/create: 5
`
	c, err := ParseConfig([]byte(y))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if c.Push.Timeout != 2*time.Second || c.Push.Attempts != 2 || c.Limits.TokenDaily != 10 ||
		c.Limits.StableForceInterval != time.Minute || c.Limits.Daily["/cgi-bin/menu/create"] != 5 {
		t.Errorf("decoded push/limits = %+v %+v", c.Push, c.Limits)
	}
	a := c.Apps[0]
	if a.Mode != ModeCompat || len(a.IPWhitelist) != 2 || a.Users[0].Nickname != "张三" || *a.Users[1].Subscribed {
		t.Errorf("decoded app = %+v", a)
	}
	e, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	cfg := e.Config()
	if cfg.Limits.TokenLifetime != 7200*time.Second || cfg.Limits.TokenOverlap != 5*time.Minute {
		t.Errorf("defaults not applied: %+v", cfg.Limits)
	}
	apps := e.Apps()
	if !regexp.MustCompile(`^gh_[0-9a-f]{12}$`).MatchString(apps[0].OriginalID) {
		t.Errorf("derived original id %q", apps[0].OriginalID)
	}
	gen := apps[0].Users[0].OpenID
	if !regexp.MustCompile(`^o[A-Za-z0-9_-]{27}$`).MatchString(gen) {
		t.Errorf("generated openid %q is not 28 characters like o + base64url", gen)
	}
	if gen != deriveOpenID("wx1111111111111111", 0) {
		t.Errorf("generated openid is not stable")
	}
	if apps[0].Users[1].Subscribed {
		t.Errorf("user with subscribed: false is subscribed")
	}
}

func TestGeneratedOpenIDsShareAppPrefix(t *testing.T) {
	t.Parallel()
	a, b, c := deriveOpenID("wxA", 0), deriveOpenID("wxA", 1), deriveOpenID("wxB", 0)
	if a[:6] != b[:6] || a == b {
		t.Errorf("openids of one app %q, %q: want a shared 6-char prefix and different values", a, b)
	}
	if a[:6] == c[:6] {
		t.Errorf("openids of two apps share prefix %q", a[:6])
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	base := "apps:\n  - appid: wx1\n    secret: s\n    token: tok123\n"
	tests := []struct {
		name string
		yaml string
		key  string // must appear in the error
	}{
		{"unknown top key", "listen: x\n", "listen"},
		{"unknown app key", base + "    colour: red\n", "colour"},
		{"bad mode", base + "    mode: secure\n", "apps[0].mode"},
		{"safe without key", base + "    mode: safe\n", "apps[0].encoding_aes_key"},
		{"bad aes key", base + "    encoding_aes_key: short\n", "apps[0].encoding_aes_key"},
		{"missing appid", "apps:\n  - secret: s\n    token: tok123\n", "apps[0].appid"},
		{"missing secret", "apps:\n  - appid: wx1\n    token: tok123\n", "apps[0].secret"},
		{"bad token", "apps:\n  - appid: wx1\n    secret: s\n    token: a!\n", "apps[0].token"},
		{"duplicate appid", base + "  - appid: wx1\n    secret: s\n    token: tok123\n", "apps[1].appid"},
		{"bad push_url", base + "    push_url: /wx\n", "apps[0].push_url"},
		{"bad ip", base + "    ip_whitelist: [nope]\n", "apps[0].ip_whitelist[0]"},
		{"duplicate openid", base + "    users: [{openid: o1}, {openid: o1}]\n", "apps[0].users[1].openid"},
		{"bad attempts", "push:\n  attempts: 11\n", "push.attempts"},
		{"bad duration", "push:\n  timeout: soon\n", "timeout"},
		{"negative limit", "limits:\n  token_daily: -1\n", "limits.token_daily"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("ParseConfig accepted:\n%s", tt.yaml)
			}
			if !strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %q does not name %q", err, tt.key)
			}
			var ce *ConfigError
			if strings.Contains(tt.key, ".") && !errors.As(err, &ce) {
				t.Errorf("error %T is not a *ConfigError", err)
			}
		})
	}
}

func TestLoadConfigAndDefault(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "emu.yaml")
	if err := os.WriteFile(p, []byte("apps:\n  - appid: wx1\n    secret: s\n    token: tok123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if len(c.Apps) != 1 || c.Apps[0].AppID != "wx1" {
		t.Errorf("LoadConfig = %+v", c)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("LoadConfig(missing) = nil error")
	}

	d := DefaultConfig()
	if err := d.Validate(); err != nil {
		t.Fatalf("DefaultConfig invalid: %v", err)
	}
	if diff := cmp.Diff(d, DefaultConfig()); diff != "" {
		t.Errorf("DefaultConfig is not repeatable:\n%s", diff)
	}
	a := d.Apps[0]
	if a.AppID != DemoAppID || a.Mode != ModeSafe || len(a.Users) != 3 {
		t.Errorf("DefaultConfig app = %s %s %d users", a.AppID, a.Mode, len(a.Users))
	}
	for _, u := range a.Users {
		if !regexp.MustCompile(`^o[A-Za-z0-9_-]{27}$`).MatchString(u.OpenID) {
			t.Errorf("demo openid %q is not realistic", u.OpenID)
		}
	}
}
