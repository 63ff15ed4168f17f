package gateway

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/store"
)

// me calls /api/me with c and decodes the user (nil on 401).
func (e *webEnv) me(t *testing.T, c *http.Client) *store.User {
	t.Helper()
	resp, body := get(t, c, e.url+"/api/me")
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return nil
	case http.StatusOK:
	default:
		t.Fatalf("GET /api/me = %d %s", resp.StatusCode, body)
	}
	var u store.User
	if err := json.Unmarshal([]byte(body), &u); err != nil {
		t.Fatalf("GET /api/me: %v in %s", err, body)
	}
	return &u
}

func TestOAuthLoginBrowserFlow(t *testing.T) {
	t.Parallel()
	e := newWebEnv(t, nil)
	want := emulator.DefaultConfig().Apps[0].Users[0] // the auto-approving user

	for _, tc := range []struct {
		name    string
		scope   string
		profile bool
	}{
		{"snsapi_userinfo stores the profile", "snsapi_userinfo", true},
		{"snsapi_base stores the openid only", "snsapi_base", false},
		{"no scope means snsapi_base", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh gateway per case, so that base logins do not find
			// the profile of an earlier userinfo login.
			e := e
			if tc.name != "snsapi_userinfo stores the profile" {
				e = newWebEnv(t, nil)
			}
			c := e.browser(t)
			if u := e.me(t, c); u != nil {
				t.Fatalf("/api/me before login = %+v, want 401", u)
			}
			q := url.Values{"return": {"/welcome?from=share&x=1"}}
			if tc.scope != "" {
				q.Set("scope", tc.scope)
			}
			resp, _ := get(t, c, e.url+"/oauth/login?"+q.Encode())
			// The chain ends on the gateway's return path (which has no
			// route here: 404 is fine, the URL is what matters).
			if got := resp.Request.URL; got.Host != e.host || got.Path != "/welcome" || got.RawQuery != "from=share&x=1" {
				t.Fatalf("login ended at %s, want %s/welcome?from=share&x=1", got, e.url)
			}
			u := e.me(t, c)
			if u == nil {
				t.Fatalf("/api/me after login = 401, want the user")
			}
			wantUser := store.User{AppID: e.appID, OpenID: want.OpenID}
			if tc.profile {
				wantUser.Nickname, wantUser.Sex, wantUser.City, wantUser.Province, wantUser.Country =
					want.Nickname, want.Sex, want.City, want.Province, want.Country
			}
			if d := cmp.Diff(wantUser, *u, cmpopts.IgnoreFields(store.User{}, "FirstSeen", "LastSeen", "HeadImgURL")); d != "" {
				t.Errorf("/api/me mismatch (-want +got):\n%s", d)
			}
			if u.FirstSeen.IsZero() || u.LastSeen.Before(u.FirstSeen) {
				t.Errorf("/api/me first_seen %v, last_seen %v", u.FirstSeen, u.LastSeen)
			}
		})
	}
}

func TestOAuthCallbackSetsSessionCookie(t *testing.T) {
	t.Parallel()
	e := newWebEnv(t, nil)
	c := e.noFollow(t)
	auth, state := e.startLogin(t, c, url.Values{"return": {"/after"}, "scope": {"snsapi_userinfo"}})
	if len(state) > maxStateLen {
		t.Errorf("state is %d bytes, WeChat accepts at most %d", len(state), maxStateLen)
	}
	if got := auth.Query().Get("redirect_uri"); got != e.url+"/oauth/callback?app="+e.appID {
		t.Errorf("redirect_uri = %q", got)
	}
	if auth.Query().Get("scope") != "snsapi_userinfo" {
		t.Errorf("authorize scope = %q, want snsapi_userinfo", auth.Query().Get("scope"))
	}
	resp, body := get(t, c, e.callbackURL(t, c, auth).String())
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/after" {
		t.Fatalf("callback = %d Location %q %s, want 302 /after", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	ck := sessionCookie(resp)
	if ck == nil {
		t.Fatalf("callback set no %s cookie", SessionCookie)
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure || ck.MaxAge != int(DefaultSessionTTL/time.Second) {
		t.Errorf("cookie = %+v, want HttpOnly, SameSite=Lax, Path=/, not Secure on http, Max-Age 7 days", ck)
	}
	if len(ck.Value) < 40 {
		t.Errorf("session id %q is too short to be 32 random bytes", ck.Value)
	}

	// Logout ends the session.
	req, _ := http.NewRequestWithContext(t.Context(), "POST", e.url+"/oauth/logout", nil)
	lresp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	lresp.Body.Close()
	if lresp.StatusCode != http.StatusNoContent {
		t.Errorf("POST /oauth/logout = %d, want 204", lresp.StatusCode)
	}
	req, _ = http.NewRequestWithContext(t.Context(), "GET", e.url+"/api/me", nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: ck.Value})
	mresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	mresp.Body.Close()
	if mresp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/me with a logged-out session = %d, want 401", mresp.StatusCode)
	}
}

func TestOAuthSecureCookieOnHTTPS(t *testing.T) {
	t.Parallel()
	e := newWebEnv(t, nil)
	e.g.web.secure = true // as when public_url is https
	c := e.noFollow(t)
	auth, _ := e.startLogin(t, c, url.Values{})
	names := e.loginCookies(t, c) // logincsrf_test.go
	if len(names) != 1 {
		t.Errorf("login cookies %v, want 1", names)
	}
	for name := range names {
		if !strings.HasPrefix(name, "__Host-"+LoginCookie+"_") {
			t.Errorf("login cookie %q, want the __Host- prefix on https", name)
		}
	}
	resp, _ := get(t, c, e.callbackURL(t, c, auth).String())
	if ck := sessionCookie(resp); ck == nil || !ck.Secure {
		t.Errorf("cookie = %+v, want Secure", ck)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name != SessionCookie && (!ck.Secure || ck.MaxAge >= 0) {
			t.Errorf("callback sets %+v, want the login cookie cleared, Secure", ck)
		}
	}
}

func TestOAuthCallbackRefusesBadStates(t *testing.T) {
	t.Parallel()
	e := newWebEnv(t, nil)

	// tamper flips one character of the payload part of the state.
	tamper := func(state string) string {
		b := []byte(state)
		if b[3] == 'A' {
			b[3] = 'B'
		} else {
			b[3] = 'A'
		}
		return string(b)
	}
	for _, tc := range []struct {
		name string
		// prepare returns the callback URL to call, given a fresh one.
		prepare func(t *testing.T, cb *url.URL, c *http.Client) string
		want    int
	}{
		{"tampered payload", func(t *testing.T, cb *url.URL, _ *http.Client) string {
			q := cb.Query()
			q.Set("state", tamper(q.Get("state")))
			cb.RawQuery = q.Encode()
			return cb.String()
		}, http.StatusBadRequest},
		{"tampered MAC", func(t *testing.T, cb *url.URL, _ *http.Client) string {
			q := cb.Query()
			s := q.Get("state")
			last := s[len(s)-2]
			if last == 'A' {
				last = 'B'
			} else {
				last = 'A'
			}
			q.Set("state", s[:len(s)-2]+string(last)+s[len(s)-1:])
			cb.RawQuery = q.Encode()
			return cb.String()
		}, http.StatusBadRequest},
		{"no state", func(t *testing.T, cb *url.URL, _ *http.Client) string {
			q := cb.Query()
			q.Del("state")
			cb.RawQuery = q.Encode()
			return cb.String()
		}, http.StatusBadRequest},
		{"state of another app", func(t *testing.T, cb *url.URL, _ *http.Client) string {
			// Same key, signed for another AppID: the MAC binds the app.
			other, _, err := e.g.web.signer.newLoginState("wx00000000000000ff", "/", false, e.g.web.now().Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			q := cb.Query()
			q.Set("state", e.g.web.signer.sign("wx00000000000000ff", &other))
			cb.RawQuery = q.Encode()
			return cb.String()
		}, http.StatusBadRequest},
		{"expired state", func(t *testing.T, cb *url.URL, _ *http.Client) string {
			now := time.Now()
			e.g.web.now = func() time.Time { return now.Add(DefaultStateTTL + time.Second) }
			t.Cleanup(func() { e.g.web.now = time.Now })
			return cb.String()
		}, http.StatusBadRequest},
		{"replayed state", func(t *testing.T, cb *url.URL, c *http.Client) string {
			resp, body := get(t, c, cb.String())
			if resp.StatusCode != http.StatusFound || sessionCookie(resp) == nil {
				t.Fatalf("first callback = %d %s, want 302 with a session", resp.StatusCode, body)
			}
			return cb.String()
		}, http.StatusBadRequest},
		{"user refused consent (no code)", func(t *testing.T, cb *url.URL, _ *http.Client) string {
			q := cb.Query()
			q.Del("code")
			cb.RawQuery = q.Encode()
			return cb.String()
		}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: "expired state" moves the gateway's clock.
			c := e.noFollow(t)
			auth, _ := e.startLogin(t, c, url.Values{"return": {"/secret"}})
			cb := e.callbackURL(t, c, auth)
			// The browser that started the login, without the session
			// prepare may give c: its login cookie, copied beforehand.
			fresh := e.noFollow(t)
			base, _ := url.Parse(e.url)
			fresh.Jar.SetCookies(base, c.Jar.Cookies(base))
			u := tc.prepare(t, cb, c)
			resp, body := get(t, fresh, u)
			if resp.StatusCode != tc.want {
				t.Errorf("callback = %d %s, want %d", resp.StatusCode, body, tc.want)
			}
			if ck := sessionCookie(resp); ck != nil {
				t.Errorf("callback set a session cookie %q", ck.Value)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("callback redirected to %q", loc)
			}
			if u := e.me(t, fresh); u != nil {
				t.Errorf("/api/me = %+v, want 401", u)
			}
		})
	}
}

func TestOAuthReturnTargets(t *testing.T) {
	t.Parallel()
	e := newWebEnv(t, func(cfg *Config, _ *emulator.Config) {
		cfg.OAuth.AllowedReturnHosts = []string{"Shop.Example", "pay.example:8443"}
	})
	long := "/articles/2026/11/21/a-rather-long-share-landing-path?from=timeline&isappinstalled=0&utm_source=wechat"
	for _, tc := range []struct {
		ret  string
		want string // Location after the callback; "" = refused at login
	}{
		{"/", "/"},
		{"/a/b?c=d", "/a/b?c=d"},
		{long, long},
		{"https://shop.example/cart?id=1", "https://shop.example/cart?id=1"},
		{"http://SHOP.example:8080/x", "http://SHOP.example:8080/x"},
		{"https://pay.example:8443/ok", "https://pay.example:8443/ok"},
		{"https://pay.example/ok", ""},
		{"https://evil.example", ""},
		{"https://evil.example/", ""},
		{"//evil.example", ""},
		{"//evil.example/path", ""},
		{"/\\evil.example", ""},
		{"/\t/evil.example", ""},
		{"/\n/evil.example", ""},
		{"\\\\evil.example", ""},
		{"https://shop.example@evil.example/", ""},
		{"https://evil.example#@shop.example", ""},
		{"https://shop.example.evil.example/", ""},
		{"javascript:alert(1)", ""},
		{"relative/path", ""},
		{"ftp://shop.example/", ""},
		{"/" + strings.Repeat("a", maxReturnLen), ""},
	} {
		name := tc.ret
		if len(name) > 48 {
			name = name[:48] + "…"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := e.noFollow(t)
			resp, body := get(t, c, e.url+"/oauth/login?"+url.Values{"return": {tc.ret}}.Encode())
			if tc.want == "" {
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("login with return=%q = %d Location %q, want 400", tc.ret, resp.StatusCode, resp.Header.Get("Location"))
				}
				return
			}
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("login with return=%q = %d %s, want 302", tc.ret, resp.StatusCode, body)
			}
			auth, _ := url.Parse(resp.Header.Get("Location"))
			if st := auth.Query().Get("state"); len(st) > maxStateLen {
				t.Errorf("state is %d bytes, want at most %d", len(st), maxStateLen)
			}
			cresp, body := get(t, c, e.callbackURL(t, c, auth).String())
			if cresp.StatusCode != http.StatusFound || cresp.Header.Get("Location") != tc.want {
				t.Errorf("callback = %d Location %q %s, want 302 %q", cresp.StatusCode, cresp.Header.Get("Location"), body, tc.want)
			}
		})
	}
}

func TestOAuthLoginErrors(t *testing.T) {
	t.Parallel()
	e := newWebEnv(t, nil)
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"scope=snsapi_login", http.StatusBadRequest},
		{"app=wx00000000000000ff", http.StatusNotFound},
		{"app=" + e.appID, http.StatusFound},
	} {
		t.Run(tc.query, func(t *testing.T) {
			resp, body := get(t, e.noFollow(t), e.url+"/oauth/login?"+tc.query)
			if resp.StatusCode != tc.want {
				t.Errorf("GET /oauth/login?%s = %d %s, want %d", tc.query, resp.StatusCode, body, tc.want)
			}
		})
	}
	// A bogus session cookie is no session.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.url+"/api/me", nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: "forged"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/me with a forged cookie = %d, want 401", resp.StatusCode)
	}
	if strings.Contains(e.logs.String(), testOAuthSecret) || strings.Contains(e.logs.String(), emulator.DemoSecret) {
		t.Errorf("a secret is in the log:\n%s", e.logs)
	}
}
