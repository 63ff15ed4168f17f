package gateway

import (
	"fmt"
	"strings"
)

// Values of AppConfig.Type.
const (
	// AppTypeOfficialAccount is an Official Account (公众号), the default:
	// webhook, web login, JS-SDK, menu.
	AppTypeOfficialAccount = "official_account"
	// AppTypeMiniProgram is a Mini Program (小程序): login with wx.login
	// codes (POST /wxa/{appid}/login), profile and phone number (see
	// wxa.go); message push at /wx/{appid} (XML or JSON) when it has a
	// token.
	AppTypeMiniProgram = "miniprogram"
)

// IsMiniProgram reports whether a is a Mini Program (type: miniprogram).
func (a *AppConfig) IsMiniProgram() bool { return a.Type == AppTypeMiniProgram }

// hasWebhook reports whether a receives pushes at /wx/{appid}: every
// Official Account, and a Mini Program that configures message push (a
// token).
func (a *AppConfig) hasWebhook() bool { return a.Token != "" || !a.IsMiniProgram() }

// normalizeType fills and checks apps[].type and what a Mini Program
// needs: its secret (code2session takes the AppSecret), a token only when
// it configures message push (encoding_aes_key, mode or replies need
// one), and none of the Official Account's menu or JS-SDK keys.
func (a *AppConfig) normalizeType(key string) error {
	switch a.Type {
	case "":
		a.Type = AppTypeOfficialAccount
	case AppTypeOfficialAccount:
	case AppTypeMiniProgram:
		env := "WXKIT_" + strings.ToUpper(a.AppID) + "_SECRET"
		if a.Secret == "" {
			return fmt.Errorf("%s.secret: required for a Mini Program (login calls jscode2session with it; or set %s)", key, env)
		}
		if a.Menu != nil {
			return fmt.Errorf("%s.menu: a Mini Program has no custom menu (Official Accounts only)", key)
		}
		if len(a.JSSDK.Domains) > 0 || len(a.JSSDK.JSAPIList) > 0 {
			return fmt.Errorf("%s.jssdk: a Mini Program has no JS-SDK (Official Accounts only)", key)
		}
		if a.Token == "" && (a.EncodingAESKey != "" || a.Mode != "" || !a.Replies.empty()) {
			return fmt.Errorf("%s.token: required when a Mini Program configures message push (encoding_aes_key, mode or replies)", key)
		}
	default:
		return fmt.Errorf("%s.type: %q is not official_account or miniprogram", key, a.Type)
	}
	return nil
}

// empty reports whether no reply is configured.
func (r *RepliesConfig) empty() bool {
	return r.Subscribe == nil && r.Default == nil && len(r.Keywords) == 0 && len(r.Clicks) == 0
}
