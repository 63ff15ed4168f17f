package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/oauth"
)

func ExampleConfig_AuthCodeURL() {
	cfg := &oauth.Config{
		AppID:       "wx0123456789abcdef",
		RedirectURL: "https://app.example/oauth/callback",
		Scope:       oauth.ScopeUserInfo,
	}
	// Redirect the user's WeChat browser here; state must be checked on
	// the callback.
	fmt.Println(cfg.AuthCodeURL("Zm9vYmFy"))
	// Output:
	// https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx0123456789abcdef&redirect_uri=https%3A%2F%2Fapp.example%2Foauth%2Fcallback&response_type=code&scope=snsapi_userinfo&state=Zm9vYmFy#wechat_redirect
}

// The whole web authorization flow against the in-process emulator, which
// stands in for open.weixin.qq.com and api.weixin.qq.com.
func Example() {
	ctx := context.Background()
	e, err := emulator.New(emulator.Config{Apps: []emulator.AppConfig{{
		AppID: "wx0123456789abcdef", Secret: "0123456789abcdef0123456789abcdef", Token: "wxkitdemo",
		Name:  "演示号",
		OAuth: emulator.OAuthConfig{Domains: []string{"app.example"}},
		Users: []emulator.UserConfig{{OpenID: "oDemoUser0000000000000000000", Nickname: "张三", City: "深圳"}},
	}}})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	// Nobody is there to press 允许: consent at once as this user.
	if err := e.SetOAuthAutoApprove("wx0123456789abcdef", "oDemoUser0000000000000000000"); err != nil {
		log.Fatal(err)
	}

	cfg := &oauth.Config{
		AppID:       "wx0123456789abcdef",
		AppSecret:   "0123456789abcdef0123456789abcdef",
		RedirectURL: "https://app.example/oauth/callback",
		Scope:       oauth.ScopeUserInfo,
		OpenBase:    srv.URL, // the defaults are the real WeChat hosts
		APIBase:     srv.URL,
	}

	// 1. The browser visits the authorize URL and is redirected to the
	// callback. Here a client that does not follow redirects reads it.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(cfg.AuthCodeURL("Zm9vYmFy"))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	callback, _ := url.Parse(resp.Header.Get("Location"))
	fmt.Println("callback:", callback.Host+callback.Path, "state:", callback.Query().Get("state"))

	// 2. The callback exchanges the code (single use, 5 minutes).
	tok, err := cfg.Exchange(ctx, callback.Query().Get("code"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("openid:", tok.OpenID, "scope:", tok.Scope, "expires_in:", tok.ExpiresIn)

	// 3. snsapi_userinfo allows reading the profile.
	info, err := cfg.UserInfo(ctx, tok, oauth.LangZhCN)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("nickname:", info.Nickname, "city:", info.City)

	// A code works once.
	_, err = cfg.Exchange(ctx, callback.Query().Get("code"))
	fmt.Println("reuse:", errors.Is(err, wxkit.ErrCodeBeenUsed))
	// Output:
	// callback: app.example/oauth/callback state: Zm9vYmFy
	// openid: oDemoUser0000000000000000000 scope: snsapi_userinfo expires_in: 7200
	// nickname: 张三 city: 深圳
	// reuse: true
}
