package gateway

import (
	"strings"
	"testing"
)

const wxaConfig = `
apps:
  - appid: wx0123456789abcdef
    token: benchtoken
  - appid: wx5a1b2c3d4e5f6a7b
    type: miniprogram
    secret: 5a1b2c3d4e5f6a7b5a1b2c3d4e5f6a7b
`

func TestParseConfigMiniProgram(t *testing.T) {
	cfg, err := ParseConfig([]byte(wxaConfig))
	if err != nil {
		t.Fatalf("ParseConfig(a Mini Program without token) = %v", err)
	}
	oa, mini := cfg.App("wx0123456789abcdef"), cfg.App("wx5a1b2c3d4e5f6a7b")
	if oa.Type != AppTypeOfficialAccount || oa.IsMiniProgram() || !oa.hasWebhook() {
		t.Errorf("the first app = type %q, want official_account (the default) with a webhook", oa.Type)
	}
	if !mini.IsMiniProgram() || mini.hasWebhook() {
		t.Errorf("the Mini Program = type %q, webhook %v; want miniprogram without a webhook", mini.Type, mini.hasWebhook())
	}
	push, err := ParseConfig([]byte(wxaConfig + "    token: minitoken\n    encoding_aes_key: abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n"))
	if err != nil {
		t.Fatalf("ParseConfig(a Mini Program with message push) = %v", err)
	}
	if a := push.App("wx5a1b2c3d4e5f6a7b"); !a.hasWebhook() || a.Mode != ModeSafe {
		t.Errorf("the Mini Program with a token: webhook %v, mode %q; want a webhook in safe mode", a.hasWebhook(), a.Mode)
	}
}

func TestParseConfigMiniProgramErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"bad type", strings.Replace(wxaConfig, "type: miniprogram", "type: minigame", 1),
			`apps[1].type: "minigame" is not official_account or miniprogram`},
		{"no secret", strings.Replace(wxaConfig, "secret: 5a1b2c3d4e5f6a7b5a1b2c3d4e5f6a7b", "", 1),
			"apps[1].secret: required for a Mini Program"},
		{"push without token", wxaConfig + "    encoding_aes_key: abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n",
			"apps[1].token: required when a Mini Program configures message push"},
		{"replies without token", wxaConfig + "    replies: { default: { echo: true } }\n",
			"apps[1].token: required when a Mini Program configures message push"},
		{"menu", wxaConfig + "    menu: { button: [ { type: click, name: a, key: b } ] }\n",
			"apps[1].menu: a Mini Program has no custom menu"},
		{"jssdk", wxaConfig + "    jssdk: { domains: [ example.com ] }\n",
			"apps[1].jssdk: a Mini Program has no JS-SDK"},
		{"short token", wxaConfig + "    token: ab\n", "apps[1].token: must be 3 to 32 characters"},
		{"official account without token", strings.Replace(wxaConfig, "token: benchtoken", "", 1), "apps[0].token: required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseConfig = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
