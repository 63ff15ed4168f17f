package emulator

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/wxkit/wxkit/wxcrypto"
)

// ComponentConfig is one Open Platform third-party platform (第三方平台)
// hosted by the emulator: its credentials and the two URLs the platform
// pushes to. YAML:
//
//	components:
//	  - appid: wx_component_appid
//	    secret: "..."
//	    token: "..."
//	    encoding_aes_key: "..."
//	    push_url: http://127.0.0.1:8080/component/wx_component_appid/notify
//	    message_url: http://127.0.0.1:8080/component/wx_component_appid/wx/$APPID$
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/getting_started/how_to_read.html
type ComponentConfig struct {
	// AppID is the platform's component_appid. Required, unique, and not
	// the appid of a hosted app.
	AppID string `yaml:"appid" json:"appid"`
	// Secret is the component_appsecret checked by api_component_token.
	// Required.
	Secret string `yaml:"secret" json:"-"`
	// Token is the message Token (消息校验Token, 3-32 letters or digits)
	// that signs every push of the platform. Required.
	Token string `yaml:"token" json:"-"`
	// EncodingAESKey is the 43-character message key (消息加解密Key); every
	// push of the platform, ticket, authorization event or message of an
	// authorized account, is encrypted with it and carries the platform's
	// AppID in the ciphertext. Required.
	EncodingAESKey string `yaml:"encoding_aes_key" json:"-"`
	// PushURL is the authorization event URL (授权事件接收URL): tickets and
	// the authorized, updateauthorized and unauthorized events. May be
	// empty and set later (Emulator.SetComponentURLs).
	PushURL string `yaml:"push_url" json:"push_url"`
	// MessageURL is the message URL (消息与事件接收URL) of the authorized
	// accounts; "$APPID$" is replaced by the account's AppID. While an
	// account is authorized to a platform that has one, its messages and
	// events go there instead of the account's own push_url. May be empty.
	MessageURL string `yaml:"message_url" json:"message_url"`
	// Name is the platform's display name on the authorization page;
	// derived from AppID when empty.
	Name string `yaml:"name" json:"name,omitempty"`
}

// componentsWithDefaults fills the derived fields of cs.
func componentsWithDefaults(cs []ComponentConfig) []ComponentConfig {
	if cs == nil {
		return nil
	}
	out := make([]ComponentConfig, len(cs))
	for i, c := range cs {
		if c.Name == "" {
			c.Name = "第三方平台 " + c.AppID
		}
		out[i] = c
	}
	return out
}

// validateComponents checks cs; appIDs are the appids of the hosted apps,
// which a component_appid may not reuse.
func validateComponents(cs []ComponentConfig, appIDs map[string]bool) error {
	bad := func(key string, format string, args ...any) error {
		return &ConfigError{Key: key, Err: fmt.Errorf(format, args...)}
	}
	seen := map[string]bool{}
	for i, c := range cs {
		p := fmt.Sprintf("components[%d].", i)
		switch {
		case c.AppID == "":
			return bad(p+"appid", "required")
		case seen[c.AppID]:
			return bad(p+"appid", "duplicate appid %q", c.AppID)
		case appIDs[c.AppID]:
			return bad(p+"appid", "%q is the appid of a hosted app", c.AppID)
		case c.Secret == "":
			return bad(p+"secret", "required")
		case !validPushToken(c.Token):
			return bad(p+"token", "must be 3-32 letters or digits")
		}
		seen[c.AppID] = true
		if _, err := wxcrypto.NewCipher(c.EncodingAESKey, c.AppID); err != nil {
			return bad(p+"encoding_aes_key", "must be 43 base64 characters")
		}
		if c.PushURL != "" && !absoluteHTTPURL(c.PushURL) {
			return bad(p+"push_url", "must be an absolute http(s) URL, got %q", c.PushURL)
		}
		if c.MessageURL != "" && !absoluteHTTPURL(strings.ReplaceAll(c.MessageURL, componentAppIDPlaceholder, "wx0")) {
			return bad(p+"message_url", "must be an absolute http(s) URL, got %q", c.MessageURL)
		}
	}
	return nil
}

// componentAppIDPlaceholder is replaced by the authorizer's AppID in a
// component's message URL.
const componentAppIDPlaceholder = "$APPID$"

// absoluteHTTPURL reports whether s is an absolute http(s) URL.
func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
