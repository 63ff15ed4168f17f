package oauth

import (
	"net/url"
	"strings"
	"testing"
)

func TestAuthCodeURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   Config
		state string
		want  string
	}{
		{
			name:  "userinfo, default host",
			cfg:   Config{AppID: "wx520c15f417810387", RedirectURL: "https://chong.qq.com/mobile/login.html?a=1&b=2", Scope: ScopeUserInfo},
			state: "123",
			want: "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx520c15f417810387" +
				"&redirect_uri=https%3A%2F%2Fchong.qq.com%2Fmobile%2Flogin.html%3Fa%3D1%26b%3D2" +
				"&response_type=code&scope=snsapi_userinfo&state=123#wechat_redirect",
		},
		{
			name:  "empty scope means snsapi_base",
			cfg:   Config{AppID: "wxabc", RedirectURL: "http://127.0.0.1:8080/oauth/callback"},
			state: "s1",
			want: "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wxabc" +
				"&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Foauth%2Fcallback" +
				"&response_type=code&scope=snsapi_base&state=s1#wechat_redirect",
		},
		{
			name:  "custom host without slash, state escaped",
			cfg:   Config{AppID: "wxabc", RedirectURL: "http://a.example/cb", Scope: ScopeBase, OpenBase: "http://127.0.0.1:9000/open"},
			state: "a b&c=d",
			want: "http://127.0.0.1:9000/open/connect/oauth2/authorize?appid=wxabc" +
				"&redirect_uri=http%3A%2F%2Fa.example%2Fcb" +
				"&response_type=code&scope=snsapi_base&state=a+b%26c%3Dd#wechat_redirect",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.cfg.AuthCodeURL(tt.state)
			if got != tt.want {
				t.Errorf("AuthCodeURL(%q) =\n %s\nwant\n %s", tt.state, got, tt.want)
			}
			// The URL must round-trip: the platform reads these values back.
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("url.Parse: %v", err)
			}
			q := u.Query()
			if q.Get("redirect_uri") != tt.cfg.RedirectURL || q.Get("state") != tt.state || q.Get("appid") != tt.cfg.AppID {
				t.Errorf("parsed query %v does not give back the inputs", q)
			}
			if u.Fragment != "wechat_redirect" {
				t.Errorf("fragment = %q, want wechat_redirect", u.Fragment)
			}
			// Order as the docs show.
			var keys []string
			for kv := range strings.SplitSeq(u.RawQuery, "&") {
				keys = append(keys, strings.SplitN(kv, "=", 2)[0])
			}
			if got, want := strings.Join(keys, ","), "appid,redirect_uri,response_type,scope,state"; got != want {
				t.Errorf("parameter order = %s, want %s", got, want)
			}
		})
	}
}

func TestWithSlash(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"", DefaultAPIBase},
		{"http://h/p", "http://h/p/"},
		{"http://h/p/", "http://h/p/"},
	} {
		if got := withSlash(tt.in, DefaultAPIBase); got != tt.want {
			t.Errorf("withSlash(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
