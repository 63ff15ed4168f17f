package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
)

// Lang is the language of the place names in a UserInfo.
type Lang string

// Languages accepted by /sns/userinfo. The empty Lang sends no lang
// parameter (WeChat then uses LangZhCN).
const (
	LangZhCN Lang = "zh_CN" // simplified Chinese
	LangZhTW Lang = "zh_TW" // traditional Chinese
	LangEN   Lang = "en"    // English
)

// Sex is the gender in a user's profile.
type Sex int

// Values of Sex. Since 2021-10-20 WeChat answers SexUnknown for every user.
const (
	SexUnknown Sex = 0
	SexMale    Sex = 1
	SexFemale  Sex = 2
)

// UnmarshalJSON accepts a number (1) or a numeric string ("1", as some
// samples in the WeChat docs show); an empty string or null is SexUnknown.
func (s *Sex) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		b = []byte(str)
	}
	if len(b) == 0 || string(b) == "null" {
		*s = SexUnknown
		return nil
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return fmt.Errorf("oauth: sex: not a number: %q", b)
	}
	*s = Sex(n)
	return nil
}

// UserInfo is a user's public profile as /sns/userinfo returns it.
//
// Since 2021-10-20 WeChat returns Sex 0 and empty Province, City and Country,
// and a default grey avatar and "微信用户" as nickname for users who have not
// shared their profile; the emulator returns its simulated users' values.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#3
type UserInfo struct {
	OpenID   string `json:"openid"`
	Nickname string `json:"nickname"`
	Sex      Sex    `json:"sex"`
	Province string `json:"province"`
	City     string `json:"city"`
	Country  string `json:"country"`
	// HeadImgURL is the avatar URL; the last path element selects the size
	// (0 = 640×640, 46, 64, 96, 132). Empty when the user has none.
	HeadImgURL string `json:"headimgurl"`
	// Privilege lists the user's privileges, e.g. "chinaunicom" for a WoCard user.
	Privilege []string `json:"privilege"`
	// UnionID is set when the account is bound to an Open Platform account.
	UnionID string `json:"unionid,omitempty"`
}

// UserInfo fetches the profile of tok's user with
// GET /sns/userinfo?access_token&openid&lang. It needs a token granted with
// ScopeUserInfo: a ScopeBase token gives wxkit.ErrAPIUnauthorized (48001).
// A rejected token gives wxkit.ErrInvalidCredential (40001) or
// wxkit.ErrAccessTokenExpired (42001): call Refresh and try again.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#3
func (c *Config) UserInfo(ctx context.Context, tok *Token, lang Lang) (*UserInfo, error) {
	const path = "sns/userinfo"
	if tok == nil || tok.AccessToken == "" || tok.OpenID == "" {
		return nil, fmt.Errorf("wxkit: GET %s: token without access_token or openid", path)
	}
	q := url.Values{"access_token": {tok.AccessToken}, "openid": {tok.OpenID}}
	if lang != "" {
		q.Set("lang", string(lang))
	}
	var u UserInfo
	if err := c.get(ctx, path, q, &u, tok.AccessToken); err != nil {
		return nil, err
	}
	return &u, nil
}

// CheckToken reports whether accessToken is still valid for openID with
// GET /sns/auth?access_token&openid: nil when WeChat answers errcode 0, else
// the *wxkit.APIError (40001 invalid, 42001 expired, 40003 openid mismatch)
// or a transport error.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#4
func (c *Config) CheckToken(ctx context.Context, accessToken, openID string) error {
	const path = "sns/auth"
	if accessToken == "" || openID == "" {
		return fmt.Errorf("wxkit: GET %s: empty access_token or openid", path)
	}
	q := url.Values{"access_token": {accessToken}, "openid": {openID}}
	return c.get(ctx, path, q, nil, accessToken)
}
