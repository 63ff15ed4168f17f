package oauth_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/oauth"
)

const (
	emuAppID  = "wx5555555555555555"
	emuSecret = "55555555555555555555555555555555"
)

var emuUsers = []emulator.UserConfig{
	{OpenID: "oEmuUser1xxxxxxxxxxxxxxxxxxx", UnionID: "oUnion1xxxxxxxxxxxxxxxxxxxxx", Nickname: "张三", Sex: 1,
		City: "深圳", Province: "广东", Country: "中国", HeadImgURL: "https://thirdwx.qlogo.cn/mmopen/vi_32/emu/132"},
	{OpenID: "oEmuUser2yyyyyyyyyyyyyyyyyyy", Nickname: "李四", Sex: 2, City: "杭州", Province: "浙江", Country: "中国"},
}

// callback is the app's OAuth callback endpoint: it records what the
// browser brought back.
type callback struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []url.Values
}

func (c *callback) last(t *testing.T) url.Values {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.hits) == 0 {
		t.Fatal("the callback was not reached")
	}
	return c.hits[len(c.hits)-1]
}

func (c *callback) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.hits)
}

// flow is an emulator, its HTTP server, the app's callback server and a
// Config for them.
type flow struct {
	emu     *emulator.Emulator
	emuSrv  *httptest.Server
	cb      *callback
	cfg     *oauth.Config
	browser *http.Client // follows redirects, as a browser does
}

func newFlow(t *testing.T, scope oauth.Scope) *flow {
	t.Helper()
	cb := &callback{}
	cb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb.mu.Lock()
		cb.hits = append(cb.hits, r.URL.Query())
		cb.mu.Unlock()
		_, _ = io.WriteString(w, "callback ok")
	}))
	t.Cleanup(cb.srv.Close)
	cbURL, _ := url.Parse(cb.srv.URL)

	e, err := emulator.New(emulator.Config{Apps: []emulator.AppConfig{{
		AppID: emuAppID, Secret: emuSecret, Token: "emutoken", Name: "测试号", Users: emuUsers,
		OAuth: emulator.OAuthConfig{Domains: []string{cbURL.Host}},
	}}}, emulator.WithClock(emulator.FixedClock(time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC))))
	if err != nil {
		t.Fatalf("emulator.New = %v", err)
	}
	emuSrv := httptest.NewServer(e)
	t.Cleanup(emuSrv.Close)
	return &flow{
		emu: e, emuSrv: emuSrv, cb: cb,
		cfg: &oauth.Config{
			AppID: emuAppID, AppSecret: emuSecret, RedirectURL: cb.srv.URL + "/oauth/callback", Scope: scope,
			OpenBase: emuSrv.URL, APIBase: emuSrv.URL + "/", HTTPClient: emuSrv.Client(),
		},
		browser: &http.Client{},
	}
}

// authorize sends the browser to the authorize URL and returns the final
// response (the callback's, when the emulator redirects).
func (f *flow) authorize(t *testing.T, state string) *http.Response {
	t.Helper()
	resp, err := f.browser.Get(f.cfg.AuthCodeURL(state))
	if err != nil {
		t.Fatalf("GET authorize: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// codeFor runs the authorize step with auto-approve as openID and returns
// the code the callback received.
func (f *flow) codeFor(t *testing.T, openID string) string {
	t.Helper()
	if err := f.emu.SetOAuthAutoApprove(emuAppID, openID); err != nil {
		t.Fatal(err)
	}
	f.authorize(t, "s")
	code := f.cb.last(t).Get("code")
	if code == "" {
		t.Fatal("callback got no code")
	}
	return code
}

func TestFlowAgainstEmulator(t *testing.T) {
	t.Parallel()
	f := newFlow(t, oauth.ScopeUserInfo)
	ctx := t.Context()
	u := emuUsers[0]
	if err := f.emu.SetOAuthAutoApprove(emuAppID, u.OpenID); err != nil {
		t.Fatal(err)
	}

	resp := f.authorize(t, "Zm9vYmFy")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/oauth/callback" {
		t.Fatalf("authorize ended at %s with %d, want the callback", resp.Request.URL, resp.StatusCode)
	}
	q := f.cb.last(t)
	if q.Get("state") != "Zm9vYmFy" || q.Get("code") == "" {
		t.Fatalf("callback query = %v, want code and state", q)
	}

	tok, err := f.cfg.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatalf("Exchange = %v", err)
	}
	if tok.OpenID != u.OpenID || tok.Scope != oauth.ScopeUserInfo || tok.UnionID != u.UnionID ||
		tok.ExpiresIn != 7200 || tok.RefreshToken == "" || !tok.Valid() {
		t.Fatalf("Exchange = %v (unionid %q, expires_in %d), want user %s, snsapi_userinfo, unionid, 7200 s", tok, tok.UnionID, tok.ExpiresIn, u.OpenID)
	}

	info, err := f.cfg.UserInfo(ctx, tok, oauth.LangZhCN)
	if err != nil {
		t.Fatalf("UserInfo = %v", err)
	}
	want := &oauth.UserInfo{OpenID: u.OpenID, Nickname: u.Nickname, Sex: oauth.SexMale, Province: u.Province, City: u.City,
		Country: u.Country, HeadImgURL: u.HeadImgURL, Privilege: []string{}, UnionID: u.UnionID}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("UserInfo mismatch (-want +got):\n%s", diff)
	}

	if err := f.cfg.CheckToken(ctx, tok.AccessToken, tok.OpenID); err != nil {
		t.Errorf("CheckToken = %v, want nil", err)
	}

	// Refresh while valid: the same access token with a new lifetime.
	again, err := f.cfg.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh = %v", err)
	}
	if again.AccessToken != tok.AccessToken || again.RefreshToken != tok.RefreshToken || again.OpenID != u.OpenID {
		t.Errorf("Refresh of a valid token = %v, want the same tokens", again)
	}

	// After expiry: CheckToken says 42001; Refresh gives a new token.
	if _, err := f.emu.Advance(2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := f.cfg.CheckToken(ctx, tok.AccessToken, tok.OpenID); !errors.Is(err, wxkit.ErrAccessTokenExpired) {
		t.Errorf("CheckToken(expired) = %v, want ErrAccessTokenExpired", err)
	}
	if _, err := f.cfg.UserInfo(ctx, tok, ""); !errors.Is(err, wxkit.ErrAccessTokenExpired) {
		t.Errorf("UserInfo(expired) = %v, want ErrAccessTokenExpired", err)
	}
	fresh, err := f.cfg.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh(expired) = %v", err)
	}
	if fresh.AccessToken == tok.AccessToken {
		t.Error("Refresh after expiry returned the expired access token")
	}
	if err := f.cfg.CheckToken(ctx, fresh.AccessToken, u.OpenID); err != nil {
		t.Errorf("CheckToken(refreshed) = %v, want nil", err)
	}
	if err := f.cfg.CheckToken(ctx, fresh.AccessToken, emuUsers[1].OpenID); !errors.Is(err, wxkit.ErrInvalidOpenID) {
		t.Errorf("CheckToken(other openid) = %v, want ErrInvalidOpenID", err)
	}

	// 30 days after the exchange the grant is over.
	if _, err := f.emu.Advance(30 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cfg.Refresh(ctx, tok.RefreshToken); !errors.Is(err, wxkit.ErrRefreshTokenExpired) {
		t.Errorf("Refresh after 30 days = %v, want ErrRefreshTokenExpired", err)
	}
	if _, err := f.cfg.Refresh(ctx, "86_unknown"); !errors.Is(err, wxkit.ErrInvalidRefreshToken) {
		t.Errorf("Refresh(unknown) = %v, want ErrInvalidRefreshToken", err)
	}
}

var consentRe = regexp.MustCompile(`name="consent" value="([0-9A-Za-z]+)"`)

func TestConsentPageAllowAndDeny(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"allow", "deny"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			f := newFlow(t, oauth.ScopeUserInfo)
			resp := f.authorize(t, "st-"+action)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "申请获取你的昵称、头像") {
				t.Fatalf("authorize: %d, want the consent page; body:\n%s", resp.StatusCode, body)
			}
			if f.cb.count() != 0 {
				t.Fatal("the callback was reached before the user answered")
			}
			m := consentRe.FindSubmatch(body)
			if m == nil {
				t.Fatalf("no consent id in the page:\n%s", body)
			}
			// The form posts to "authorize_reply", relative to the page.
			reply, err := resp.Request.URL.Parse("authorize_reply")
			if err != nil {
				t.Fatal(err)
			}
			res, err := f.browser.PostForm(reply.String(), url.Values{
				"consent": {string(m[1])}, "openid": {emuUsers[1].OpenID}, "action": {action},
			})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			q := f.cb.last(t)
			if action == "deny" {
				if diff := cmp.Diff(url.Values{"state": {"st-deny"}}, q); diff != "" {
					t.Errorf("deny: callback query mismatch (-want +got):\n%s", diff)
				}
				return
			}
			tok, err := f.cfg.Exchange(t.Context(), q.Get("code"))
			if err != nil {
				t.Fatalf("Exchange = %v", err)
			}
			if tok.OpenID != emuUsers[1].OpenID || q.Get("state") != "st-allow" {
				t.Errorf("allow: openid %s, state %q; want %s, st-allow", tok.OpenID, q.Get("state"), emuUsers[1].OpenID)
			}
		})
	}
}

func TestCodeReuseAndExpiry(t *testing.T) {
	t.Parallel()
	f := newFlow(t, oauth.ScopeBase)
	ctx := t.Context()

	code := f.codeFor(t, emuUsers[0].OpenID)
	if _, err := f.cfg.Exchange(ctx, code); err != nil {
		t.Fatalf("Exchange = %v", err)
	}
	_, err := f.cfg.Exchange(ctx, code)
	if !errors.Is(err, wxkit.ErrCodeBeenUsed) {
		t.Fatalf("Exchange(used code) = %v, want ErrCodeBeenUsed (40163)", err)
	}
	if strings.Contains(err.Error(), code) || strings.Contains(err.Error(), emuSecret) {
		t.Errorf("error %q shows the code or the secret", err)
	}

	code = f.codeFor(t, emuUsers[0].OpenID)
	if _, err := f.emu.Advance(5 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cfg.Exchange(ctx, code); !errors.Is(err, wxkit.ErrInvalidCode) {
		t.Errorf("Exchange(code after 5 min) = %v, want ErrInvalidCode (40029)", err)
	}

	wrong := *f.cfg
	wrong.AppSecret = strings.Repeat("0", 32)
	code = f.codeFor(t, emuUsers[0].OpenID)
	if _, err := wrong.Exchange(ctx, code); !errors.Is(err, wxkit.ErrInvalidAppSecret) {
		t.Errorf("Exchange(wrong secret) = %v, want ErrInvalidAppSecret (40125)", err)
	}
}

func TestDomainMismatch(t *testing.T) {
	t.Parallel()
	f := newFlow(t, oauth.ScopeBase)
	if err := f.emu.SetOAuthAutoApprove(emuAppID, emuUsers[0].OpenID); err != nil {
		t.Fatal(err)
	}
	cfg := *f.cfg
	cfg.RedirectURL = "http://evil.example/steal"
	resp, err := f.browser.Get(cfg.AuthCodeURL("s"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if got := resp.Header.Get(emulator.OAuthErrcodeHeader); got != "10003" || !strings.Contains(string(body), "10003") {
		t.Errorf("authorize with a foreign redirect_uri: header %q, body %q; want errcode 10003", got, body)
	}
	if resp.Request.URL.Host != f.emuSrv.Listener.Addr().String() {
		t.Errorf("browser ended at %s, want to stay on the error page", resp.Request.URL)
	}
}

func TestBaseScopeCannotReadUserInfo(t *testing.T) {
	t.Parallel()
	f := newFlow(t, oauth.ScopeBase)
	ctx := t.Context()
	tok, err := f.cfg.Exchange(ctx, f.codeFor(t, emuUsers[0].OpenID))
	if err != nil {
		t.Fatalf("Exchange = %v", err)
	}
	if tok.Scope != oauth.ScopeBase || tok.UnionID != "" {
		t.Errorf("Exchange = %v (unionid %q), want snsapi_base without unionid", tok, tok.UnionID)
	}
	if _, err := f.cfg.UserInfo(ctx, tok, oauth.LangZhCN); !errors.Is(err, wxkit.ErrAPIUnauthorized) {
		t.Errorf("UserInfo(snsapi_base) = %v, want ErrAPIUnauthorized (48001)", err)
	}
	if err := f.cfg.CheckToken(ctx, tok.AccessToken, tok.OpenID); err != nil {
		t.Errorf("CheckToken(snsapi_base) = %v, want nil", err)
	}
}
