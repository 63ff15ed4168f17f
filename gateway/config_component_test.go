package gateway

import (
	"strings"
	"testing"
)

// TestComponentConfig: components: is parsed, secrets come from the
// environment, and bad values are refused naming their key.
func TestComponentConfig(t *testing.T) {
	const good = `
components:
  - appid: wx7777777777777777
    secret: s
    token: comptoken
    encoding_aes_key: 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg
    authorizer_replies: { default: { echo: true } }
`
	cfg, err := ParseConfig([]byte(good))
	if err != nil {
		t.Fatalf("ParseConfig = %v", err)
	}
	cc := cfg.Component("wx7777777777777777")
	if cc == nil || cc.AuthorizerReplies.Default == nil || !cc.AuthorizerReplies.Default.Echo || len(cc.refreshKey) != 32 {
		t.Fatalf("component = %+v", cc)
	}
	if cfg.WeChat.MPBase != "https://mp.weixin.qq.com" {
		t.Errorf("wechat.mp_base default = %q", cfg.WeChat.MPBase)
	}
	env := map[string]string{"WXKIT_COMPONENT_WX7777777777777777_SECRET": "from-env"}
	cfg.ApplyEnv(func(k string) string { return env[k] })
	if cc.Secret != "from-env" {
		t.Errorf("secret after ApplyEnv = %q, want from-env", cc.Secret)
	}

	for _, tc := range []struct{ name, edit, want string }{
		{"appid", "appid: wx7777777777777777", "components[0].appid"},
		{"token", "token: comptoken", "components[0].token"},
		{"key", "encoding_aes_key: 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg", "components[0].encoding_aes_key"},
		{"refresh key", "secret: s", "components[0].refresh_token_key"},
		{"replies", "authorizer_replies: { default: { echo: true } }", "components[0].authorizer_replies.default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := map[string]string{
				"appid":       "appid: wx_component_appid",
				"token":       "token: x",
				"key":         "encoding_aes_key: short",
				"refresh key": "secret: s\n    refresh_token_key: bm90MzJieXRlcw==",
				"replies":     "authorizer_replies: { default: { echo: true, text: x } }",
			}[tc.name]
			_, err := ParseConfig([]byte(strings.Replace(good, tc.edit, bad, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseConfig = %v, want an error naming %s", err, tc.want)
			}
		})
	}
	dup := good + strings.TrimPrefix(good, "\ncomponents:\n")
	if _, err := ParseConfig([]byte(dup)); err == nil || !strings.Contains(err.Error(), "configured twice") {
		t.Errorf("duplicate component = %v, want configured twice", err)
	}
}
