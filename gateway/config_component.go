package gateway

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/wxkit/wxkit/wxcrypto"
)

// ComponentConfig is one Open Platform third-party platform (第三方平台, a
// "component") served by the gateway. YAML:
//
//	components:
//	  - appid: wx_component_appid
//	    secret: "..."              # component_appsecret
//	    token: "..."               # 消息校验Token
//	    encoding_aes_key: "..."    # 消息加解密Key, 43 characters
//	    refresh_token_key: "..."   # optional: base64 of 32 bytes
//	    authorizer_replies: { default: { echo: true } }
//
// Its routes: POST /component/{appid}/notify (授权事件接收URL), GET
// /component/{appid}/authorize and /callback (the authorization flow), and
// /component/{appid}/wx/{authorizer_appid} (消息与事件接收URL, configured
// on the platform as .../wx/$APPID$).
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/getting_started/how_to_read.html
type ComponentConfig struct {
	// AppID is the component_appid.
	AppID string `yaml:"appid"`
	// Secret is the component_appsecret. Environment:
	// WXKIT_COMPONENT_<APPID>_SECRET.
	Secret string `yaml:"secret"`
	// Token is the message token that signs every push (3 to 32
	// characters). Environment: WXKIT_COMPONENT_<APPID>_TOKEN.
	Token string `yaml:"token"`
	// EncodingAESKey is the 43-character key of every push (tickets,
	// authorization events and the authorizers' messages). Environment:
	// WXKIT_COMPONENT_<APPID>_ENCODING_AES_KEY.
	EncodingAESKey string `yaml:"encoding_aes_key"`
	// RefreshTokenKey is the key (base64 of 32 bytes, the same on every
	// instance) that encrypts the authorizers' refresh tokens in the store
	// (AES-256-GCM). When empty, a key derived from Secret is used:
	// changing the secret then makes the stored refresh tokens unreadable
	// (every account must authorize again), so set it in production.
	// Environment: WXKIT_COMPONENT_<APPID>_REFRESH_TOKEN_KEY.
	RefreshTokenKey string `yaml:"refresh_token_key"`
	// AuthorizerReplies are the automatic replies to the messages of the
	// authorized accounts, in the shape of apps[].replies.
	AuthorizerReplies RepliesConfig `yaml:"authorizer_replies"`

	refreshKey []byte // decoded or derived RefreshTokenKey
}

// applyComponentEnv overrides the components' secrets from the
// environment (WXKIT_COMPONENT_<APPID>_…, APPID upper-cased).
func (c *Config) applyComponentEnv(getenv func(string) string) {
	for i := range c.Components {
		cc := &c.Components[i]
		p := "WXKIT_COMPONENT_" + strings.ToUpper(cc.AppID) + "_"
		for _, f := range []struct {
			dst  *string
			name string
		}{{&cc.Secret, "SECRET"}, {&cc.Token, "TOKEN"}, {&cc.EncodingAESKey, "ENCODING_AES_KEY"}, {&cc.RefreshTokenKey, "REFRESH_TOKEN_KEY"}} {
			if v := getenv(p + f.name); v != "" {
				*f.dst = v
			}
		}
	}
}

// normalizeComponents validates components: errors name the key, e.g.
// "components[0].encoding_aes_key: must be 43 base64 characters".
func (c *Config) normalizeComponents() error {
	seen := map[string]bool{}
	for i := range c.Components {
		cc := &c.Components[i]
		key := fmt.Sprintf("components[%d]", i)
		switch {
		case cc.AppID == "":
			return fmt.Errorf("%s.appid: required", key)
		case !appIDPattern.MatchString(cc.AppID):
			return fmt.Errorf("%s.appid: %q is not an AppID (wx + 16 letters or digits)", key, cc.AppID)
		case seen[cc.AppID]:
			return fmt.Errorf("%s.appid: %q is configured twice", key, cc.AppID)
		case c.App(cc.AppID) != nil:
			return fmt.Errorf("%s.appid: %q is also an app's appid", key, cc.AppID)
		case cc.Secret == "":
			return fmt.Errorf("%s.secret: required (the component_appsecret)", key)
		case len(cc.Token) < 3 || len(cc.Token) > 32:
			return fmt.Errorf("%s.token: must be 3 to 32 characters", key)
		}
		seen[cc.AppID] = true
		if _, err := wxcrypto.NewCipher(cc.EncodingAESKey, cc.AppID); err != nil {
			return fmt.Errorf("%s.encoding_aes_key: must be 43 base64 characters, got %d characters", key, len(cc.EncodingAESKey))
		}
		if cc.RefreshTokenKey != "" {
			k, err := base64.StdEncoding.DecodeString(cc.RefreshTokenKey)
			if err != nil || len(k) != 32 {
				return fmt.Errorf("%s.refresh_token_key: must be the base64 of 32 bytes (e.g. openssl rand -base64 32)", key)
			}
			cc.refreshKey = k
		} else {
			sum := sha256.Sum256([]byte("wxkit-refresh-token-key\x00" + cc.AppID + "\x00" + cc.Secret))
			cc.refreshKey = sum[:]
		}
		if err := cc.AuthorizerReplies.normalize(key + ".authorizer_replies"); err != nil {
			return err
		}
	}
	return nil
}

// Component returns the configured component with the given AppID, or nil.
func (c *Config) Component(appID string) *ComponentConfig {
	for i := range c.Components {
		if c.Components[i].AppID == appID {
			return &c.Components[i]
		}
	}
	return nil
}
