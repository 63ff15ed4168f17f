package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// loginCookies returns the login cookies c holds for e (name → value).
func (e *webEnv) loginCookies(t *testing.T, c *http.Client) map[string]string {
	t.Helper()
	base, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, ck := range c.Jar.Cookies(base) {
		if strings.Contains(ck.Name, LoginCookie+"_") {
			out[ck.Name] = ck.Value
		}
	}
	return out
}

// TestOAuthLoginCSRF: an attacker starts a login and, instead of opening
// the callback URL WeChat sends back (which would sign them in), gets a
// victim to open it. The victim's browser did not start that login, with
// or without login cookies of its own: the callback is refused, no session
// is started and the refusal is logged. The refusals do not use the state
// up: the browser that started the login still completes it.
func TestOAuthLoginCSRF(t *testing.T) {
	t.Parallel()
	e := newWebEnv(t, nil)
	attacker := e.noFollow(t)
	auth, _ := e.startLogin(t, attacker, url.Values{"return": {"/attacker"}})
	cb := e.callbackURL(t, attacker, auth)
	var attackerCookie string
	for name := range e.loginCookies(t, attacker) {
		attackerCookie = name
	}
	if attackerCookie == "" {
		t.Fatal("/oauth/login set no login cookie")
	}
	base, _ := url.Parse(e.url)

	for _, tc := range []struct {
		name       string
		victim     func(t *testing.T) *http.Client
		wantReason string
	}{
		{"a browser without cookies", func(t *testing.T) *http.Client { return e.noFollow(t) },
			"login cookie missing"},
		{"a browser with a login of its own under way", func(t *testing.T) *http.Client {
			c := e.noFollow(t)
			e.startLogin(t, c, url.Values{"return": {"/mine"}})
			return c
		}, "login cookie missing"},
		{"a browser with another secret under the state's cookie name", func(t *testing.T) *http.Client {
			c := e.noFollow(t)
			b := make([]byte, stateSecretLen)
			rand.Read(b)
			c.Jar.SetCookies(base, []*http.Cookie{{Name: attackerCookie, Value: base64.RawURLEncoding.EncodeToString(b)}})
			return c
		}, "login cookie does not match the state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			victim := tc.victim(t)
			before := strings.Count(e.logs.String(), tc.wantReason)
			resp, body := get(t, victim, cb.String())
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("victim's callback = %d %s, want 400", resp.StatusCode, body)
			}
			if ck := sessionCookie(resp); ck != nil {
				t.Errorf("callback set a session cookie %q", ck.Value)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("callback redirected to %q", loc)
			}
			if u := e.me(t, victim); u != nil {
				t.Errorf("victim is signed in as %+v", u)
			}
			if after := strings.Count(e.logs.String(), tc.wantReason); after != before+1 {
				t.Errorf("log lines with reason %q: %d, want %d:\n%s", tc.wantReason, after, before+1, e.logs)
			}
		})
	}

	resp, body := get(t, attacker, cb.String())
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/attacker" || sessionCookie(resp) == nil {
		t.Errorf("callback in the browser that started the login = %d Location %q %s, want 302 /attacker with a session",
			resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// TestOAuthLoginCookie: the login cookie's attributes, one per login, so
// that logins started in several tabs of one browser all complete, in any
// order; each callback clears its own.
func TestOAuthLoginCookie(t *testing.T) {
	t.Parallel()
	e := newWebEnv(t, nil)
	c := e.noFollow(t)
	resp, body := get(t, c, e.url+"/oauth/login?return=/one")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("login = %d %s", resp.StatusCode, body)
	}
	var ck *http.Cookie
	for _, x := range resp.Cookies() {
		if strings.HasPrefix(x.Name, LoginCookie+"_") {
			ck = x
		}
	}
	if ck == nil {
		t.Fatalf("login set no %s_ cookie: %v", LoginCookie, resp.Header["Set-Cookie"])
	}
	if len(ck.Name) != len(LoginCookie)+1+8 || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" ||
		ck.Secure || ck.MaxAge != int(DefaultStateTTL/time.Second) {
		t.Errorf("login cookie = %+v, want %s_ + 8 characters, HttpOnly, SameSite=Lax, Path=/, not Secure on http, Max-Age state_ttl", ck, LoginCookie)
	}
	if b, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil || len(b) != stateSecretLen {
		t.Errorf("login cookie value %q is not %d base64url bytes", ck.Value, stateSecretLen)
	}
	authOne, _ := url.Parse(resp.Header.Get("Location"))

	// A second tab, then both callbacks, the later login first.
	authTwo, _ := e.startLogin(t, c, url.Values{"return": {"/two"}})
	if n := len(e.loginCookies(t, c)); n != 2 {
		t.Fatalf("browser holds %d login cookies after two logins, want 2", n)
	}
	for _, step := range []struct {
		auth *url.URL
		want string
	}{{authTwo, "/two"}, {authOne, "/one"}} {
		resp, body := get(t, c, e.callbackURL(t, c, step.auth).String())
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != step.want || sessionCookie(resp) == nil {
			t.Errorf("callback = %d Location %q %s, want 302 %s with a session", resp.StatusCode, resp.Header.Get("Location"), body, step.want)
		}
	}
	if left := e.loginCookies(t, c); len(left) != 0 {
		t.Errorf("login cookies left after both callbacks: %v", left)
	}
}
