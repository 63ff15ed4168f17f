package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// OAuth test fixtures; names are prefixed so they stay clear of the other
// test files of the package.
var oauthT0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

const (
	oauthApp      = "wx3333333333333333"
	oauthSecret   = "33333333333333333333333333333333"
	oauthOther    = "wx4444444444444444"
	oauthCallback = "http://app.example:8080/oauth/callback"
)

var oauthUsers = []UserConfig{
	{OpenID: "oUser1aaaaaaaaaaaaaaaaaaaaaaa", UnionID: "uUnion1", Nickname: "张三", Sex: 1, City: "深圳", Province: "广东",
		Country: "中国", HeadImgURL: "https://thirdwx.qlogo.cn/mmopen/vi_32/abc/132"},
	{OpenID: "oUser2bbbbbbbbbbbbbbbbbbbbbbb", Nickname: "李四", Sex: 2, City: "杭州", Province: "浙江", Country: "中国"},
}

// newOAuthTest returns an emulator with oauthApp (two users, OAuth domain
// app.example:8080) and oauthOther (one user, no domain, a push URL).
func newOAuthTest(t *testing.T) *Emulator {
	t.Helper()
	cfg := Config{Apps: []AppConfig{
		{AppID: oauthApp, Secret: oauthSecret, Token: "oauthtoken", Name: "测试号", Users: oauthUsers,
			OAuth: OAuthConfig{Domains: []string{"app.example:8080"}}},
		{AppID: oauthOther, Secret: "44444444444444444444444444444444", Token: "othertoken",
			PushURL: "http://push.example:9000/wx", Users: []UserConfig{{Nickname: "solo"}}},
	}}
	e, err := New(cfg, WithClock(FixedClock(oauthT0)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// oauthDo serves one request in-process; form, when not nil, is posted.
func oauthDo(t *testing.T, e *Emulator, method, target string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequestWithContext(t.Context(), method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequestWithContext(t.Context(), method, target, nil)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	return w
}

// authorizeURL builds an authorize request target.
func authorizeURL(appID, redirectURI, scope, state string) string {
	return "/connect/oauth2/authorize?appid=" + url.QueryEscape(appID) + "&redirect_uri=" + url.QueryEscape(redirectURI) +
		"&response_type=code&scope=" + scope + "&state=" + url.QueryEscape(state)
}

// redirectQuery checks that w is a 302 to oauthCallback and returns its query.
func redirectQuery(t *testing.T, w *httptest.ResponseRecorder, base string) url.Values {
	t.Helper()
	if w.Code != http.StatusFound {
		t.Fatalf("status = %d, want 302; body %q", w.Code, w.Body.String())
	}
	loc := w.Header().Get("Location")
	if !strings.HasPrefix(loc, base+"?") {
		t.Fatalf("Location = %q, want %s?...", loc, base)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// snsReply is a decoded /sns/ answer.
type snsReply struct {
	ErrCode      int      `json:"errcode"`
	ErrMsg       string   `json:"errmsg"`
	AccessToken  string   `json:"access_token"`
	ExpiresIn    int      `json:"expires_in"`
	RefreshToken string   `json:"refresh_token"`
	OpenID       string   `json:"openid"`
	Scope        string   `json:"scope"`
	UnionID      string   `json:"unionid"`
	Nickname     string   `json:"nickname"`
	Sex          int      `json:"sex"`
	Province     string   `json:"province"`
	City         string   `json:"city"`
	Country      string   `json:"country"`
	HeadImgURL   string   `json:"headimgurl"`
	Privilege    []string `json:"privilege"`
}

func snsCall(t *testing.T, e *Emulator, target string) snsReply {
	t.Helper()
	w := oauthDo(t, e, http.MethodGet, target, nil)
	var r snsReply
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("GET %s: not JSON: %q", target, w.Body.String())
	}
	return r
}

func exchangeTarget(appID, secret, code string) string {
	return "/sns/oauth2/access_token?appid=" + appID + "&secret=" + secret + "&code=" + code + "&grant_type=authorization_code"
}

func refreshTarget(appID, rt string) string {
	return "/sns/oauth2/refresh_token?appid=" + appID + "&grant_type=refresh_token&refresh_token=" + rt
}

// grant runs the code exchange for user openID with scope and returns the reply.
func grant(t *testing.T, e *Emulator, openID, scope string) snsReply {
	t.Helper()
	code, err := e.IssueOAuthCode(oauthApp, openID, scope)
	if err != nil {
		t.Fatalf("IssueOAuthCode = %v", err)
	}
	r := snsCall(t, e, exchangeTarget(oauthApp, oauthSecret, code))
	if r.ErrCode != 0 || r.AccessToken == "" {
		t.Fatalf("exchange = %+v", r)
	}
	return r
}

func TestOAuthAuthorizeErrorPages(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	tests := []struct {
		name   string
		target string
		code   int
	}{
		{"appid missing", "/connect/oauth2/authorize?redirect_uri=" + url.QueryEscape(oauthCallback) + "&response_type=code&scope=snsapi_base", 10012},
		{"redirect_uri missing", "/connect/oauth2/authorize?appid=" + oauthApp + "&response_type=code&scope=snsapi_base", 10011},
		{"scope missing", "/connect/oauth2/authorize?appid=" + oauthApp + "&redirect_uri=" + url.QueryEscape(oauthCallback) + "&response_type=code", 10010},
		{"unknown appid", authorizeURL("wx9999999999999999", oauthCallback, "snsapi_base", "s"), 40013},
		{"other host", authorizeURL(oauthApp, "http://evil.example:8080/cb", "snsapi_base", "s"), 10003},
		{"subdomain", authorizeURL(oauthApp, "http://www.app.example:8080/cb", "snsapi_base", "s"), 10003},
		{"other port", authorizeURL(oauthApp, "http://app.example:8081/cb", "snsapi_base", "s"), 10003},
		{"default port", authorizeURL(oauthApp, "http://app.example/cb", "snsapi_base", "s"), 10003},
		{"not http", authorizeURL(oauthApp, "ftp://app.example:8080/cb", "snsapi_base", "s"), 10003},
		{"relative", authorizeURL(oauthApp, "/oauth/callback", "snsapi_base", "s"), 10003},
		{"no domain and push host differs", authorizeURL(oauthOther, oauthCallback, "snsapi_base", "s"), 10003},
		{"open platform scope", authorizeURL(oauthApp, oauthCallback, "snsapi_login", "s"), 10005},
		{"unknown scope", authorizeURL(oauthApp, oauthCallback, "snsapi_privateinfo", "s"), 10005},
		{"response_type token", strings.Replace(authorizeURL(oauthApp, oauthCallback, "snsapi_base", "s"), "response_type=code", "response_type=token", 1), 40097},
	}
	t.Run("pages", func(t *testing.T) { // returns once the parallel subtests are done
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				w := oauthDo(t, e, http.MethodGet, tt.target, nil)
				if w.Code != http.StatusOK {
					t.Errorf("status = %d, want 200 (the platform shows errors as a page)", w.Code)
				}
				if got := w.Header().Get(OAuthErrcodeHeader); got != strconv.Itoa(tt.code) {
					t.Errorf("%s = %q, want %d", OAuthErrcodeHeader, got, tt.code)
				}
				body := w.Body.String()
				if !strings.Contains(body, "错误码："+strconv.Itoa(tt.code)) || !strings.Contains(body, oauthPageErrors[tt.code]) {
					t.Errorf("page does not show errcode %d and %q:\n%s", tt.code, oauthPageErrors[tt.code], body)
				}
				if w.Header().Get("Location") != "" {
					t.Errorf("error page redirects to %q", w.Header().Get("Location"))
				}
			})
		}
	})
	if got := e.Stats().Count("/connect/oauth2/authorize", oauthApp); got.Errors == 0 {
		t.Errorf("stats = %+v: error pages not counted as errors", got)
	}
}

func TestOAuthRedirectAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		domains []string
		uri     string
		want    bool
	}{
		{[]string{"app.example:8080"}, "http://app.example:8080/x?y=1", true},
		{[]string{"APP.example:8080"}, "https://app.EXAMPLE:8080/x", true},
		{[]string{"app.example:8080"}, "http://app.example/x", false},
		{[]string{"app.example"}, "http://app.example/x", true},
		{[]string{"app.example"}, "https://app.example:443/x", true},
		{[]string{"app.example"}, "http://app.example:8080/x", false},
		{[]string{"app.example"}, "http://m.app.example/x", false},
		{[]string{"https://app.example/path"}, "https://app.example/other", true},
		{[]string{"[::1]:8080"}, "http://[::1]:8080/cb", true},
		{[]string{"127.0.0.1:8080", "localhost:8080"}, "http://localhost:8080/cb", true},
		{nil, "http://app.example/x", false},
		{[]string{"app.example"}, "javascript:alert(1)", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.uri)
		if err != nil {
			t.Fatal(err)
		}
		if got := oauthRedirectAllowed(tt.domains, u); got != tt.want {
			t.Errorf("oauthRedirectAllowed(%q, %q) = %v, want %v", tt.domains, tt.uri, got, tt.want)
		}
	}
}

func TestOAuthRedirectURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		uri  string
		kv   []string
		want string
	}{
		{"http://a.example/cb", []string{"code", "C", "state", "S"}, "http://a.example/cb?code=C&state=S"},
		{"http://a.example/cb?x=1", []string{"code", "C", "state", "S"}, "http://a.example/cb?x=1&code=C&state=S"},
		{"http://a.example/cb?", []string{"state", "S"}, "http://a.example/cb?state=S"},
		{"http://a.example/#/login?r=1", []string{"code", "C", "state", "a b"}, "http://a.example/?code=C&state=a+b#/login?r=1"},
		{"http://a.example/cb", []string{"state", ""}, "http://a.example/cb?state="},
	}
	for _, tt := range tests {
		if got := oauthRedirectURL(tt.uri, tt.kv...); got != tt.want {
			t.Errorf("oauthRedirectURL(%q, %q) = %q, want %q", tt.uri, tt.kv, got, tt.want)
		}
	}
}

func TestOAuthDefaultDomainIsPushHost(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	// oauthOther has no oauth.domains: its push URL's host is accepted,
	// and its only user is chosen silently for snsapi_base.
	w := oauthDo(t, e, http.MethodGet, authorizeURL(oauthOther, "http://push.example:9000/cb", "snsapi_base", "st"), nil)
	q := redirectQuery(t, w, "http://push.example:9000/cb")
	if q.Get("code") == "" || q.Get("state") != "st" {
		t.Errorf("redirect query = %v, want code and state=st", q)
	}
	// Moving the push URL moves the default domain.
	if err := e.SetPushURL(oauthOther, "http://other.example:7000/wx"); err != nil {
		t.Fatal(err)
	}
	w = oauthDo(t, e, http.MethodGet, authorizeURL(oauthOther, "http://push.example:9000/cb", "snsapi_base", "st"), nil)
	if got := w.Header().Get(OAuthErrcodeHeader); got != "10003" {
		t.Errorf("after SetPushURL: errcode header = %q, want 10003", got)
	}
}

func TestOAuthAutoApprove(t *testing.T) {
	t.Parallel()
	for _, scope := range []string{oauthScopeBase, oauthScopeUserInfo} {
		t.Run(scope, func(t *testing.T) {
			t.Parallel()
			e := newOAuthTest(t)
			if err := e.SetOAuthAutoApprove(oauthApp, oauthUsers[1].OpenID); err != nil {
				t.Fatal(err)
			}
			w := oauthDo(t, e, http.MethodGet, authorizeURL(oauthApp, oauthCallback+"?from=share", scope, "xyz123"), nil)
			q := redirectQuery(t, w, oauthCallback)
			if q.Get("from") != "share" || q.Get("state") != "xyz123" || len(q.Get("code")) != 32 {
				t.Fatalf("redirect query = %v, want from=share, state=xyz123 and a 32-character code", q)
			}
			r := snsCall(t, e, exchangeTarget(oauthApp, oauthSecret, q.Get("code")))
			if r.ErrCode != 0 || r.OpenID != oauthUsers[1].OpenID || r.Scope != scope || r.ExpiresIn != 7200 {
				t.Errorf("exchange = %+v, want openid %s, scope %s, expires_in 7200", r, oauthUsers[1].OpenID, scope)
			}
			// Turning it off brings the page back.
			if err := e.SetOAuthAutoApprove(oauthApp, ""); err != nil {
				t.Fatal(err)
			}
			w = oauthDo(t, e, http.MethodGet, authorizeURL(oauthApp, oauthCallback, scope, "s"), nil)
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="consent"`) {
				t.Errorf("without auto-approve: status %d, want the page", w.Code)
			}
		})
	}
}

func TestOAuthAutoApproveErrors(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	if err := e.SetOAuthAutoApprove("wx9999999999999999", oauthUsers[0].OpenID); err == nil {
		t.Error("SetOAuthAutoApprove(unknown app) = nil, want an error")
	}
	if err := e.SetOAuthAutoApprove(oauthApp, "oNobody"); err == nil {
		t.Error("SetOAuthAutoApprove(unknown user) = nil, want an error")
	}
	if _, err := e.IssueOAuthCode(oauthApp, oauthUsers[0].OpenID, "snsapi_login"); err == nil {
		t.Error("IssueOAuthCode(snsapi_login) = nil, want an error")
	}
	if _, err := e.IssueOAuthCode(oauthApp, "oNobody", oauthScopeBase); err == nil {
		t.Error("IssueOAuthCode(unknown user) = nil, want an error")
	}
}

var consentIDRe = regexp.MustCompile(`name="consent" value="([0-9A-Za-z]+)"`)

// consentPage GETs the authorize page and returns its body and consent id.
func consentPage(t *testing.T, e *Emulator, scope, state string) (string, string) {
	t.Helper()
	w := oauthDo(t, e, http.MethodGet, authorizeURL(oauthApp, oauthCallback, scope, state), nil)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("authorize: status %d, content type %q, want an HTML page", w.Code, w.Header().Get("Content-Type"))
	}
	body := w.Body.String()
	m := consentIDRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("page has no consent id:\n%s", body)
	}
	return body, m[1]
}

func TestOAuthConsentPage(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	body, id := consentPage(t, e, oauthScopeUserInfo, "st1")
	for _, want := range []string{"测试号 申请获取你的昵称、头像", "允许", "拒绝", `action="authorize_reply"`,
		oauthUsers[0].OpenID, oauthUsers[1].OpenID, "张三", "李四", oauthUsers[0].HeadImgURL} {
		if !strings.Contains(body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}

	// Allow as the second user.
	w := oauthDo(t, e, http.MethodPost, "/connect/oauth2/authorize_reply",
		url.Values{"consent": {id}, "openid": {oauthUsers[1].OpenID}, "action": {"allow"}})
	q := redirectQuery(t, w, oauthCallback)
	if q.Get("state") != "st1" || q.Get("code") == "" {
		t.Fatalf("allow: redirect query = %v, want code and state=st1", q)
	}
	r := snsCall(t, e, exchangeTarget(oauthApp, oauthSecret, q.Get("code")))
	if r.OpenID != oauthUsers[1].OpenID || r.Scope != oauthScopeUserInfo {
		t.Errorf("exchange = %+v, want the chosen user with snsapi_userinfo", r)
	}

	// A consent page answers once.
	w = oauthDo(t, e, http.MethodPost, "/connect/oauth2/authorize_reply",
		url.Values{"consent": {id}, "openid": {oauthUsers[1].OpenID}, "action": {"allow"}})
	if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" {
		t.Errorf("second answer: status %d, Location %q; want 400 and no redirect", w.Code, w.Header().Get("Location"))
	}
}

func TestOAuthConsentDeny(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	_, id := consentPage(t, e, oauthScopeUserInfo, "st2")
	w := oauthDo(t, e, http.MethodPost, "/connect/oauth2/authorize_reply",
		url.Values{"consent": {id}, "openid": {oauthUsers[0].OpenID}, "action": {"deny"}})
	q := redirectQuery(t, w, oauthCallback)
	if diff := cmp.Diff(url.Values{"state": {"st2"}}, q); diff != "" {
		t.Errorf("deny: redirect query mismatch (-want +got):\n%s", diff)
	}
}

func TestOAuthConsentReplyErrors(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	_, id := consentPage(t, e, oauthScopeUserInfo, "s")
	_, expiring := consentPage(t, e, oauthScopeUserInfo, "s")
	tests := []struct {
		name   string
		method string
		form   url.Values
		status int
	}{
		{"GET", http.MethodGet, nil, http.StatusMethodNotAllowed},
		{"bad action", http.MethodPost, url.Values{"consent": {id}, "openid": {oauthUsers[0].OpenID}, "action": {"maybe"}}, http.StatusBadRequest},
		{"unknown consent", http.MethodPost, url.Values{"consent": {"nope"}, "openid": {oauthUsers[0].OpenID}, "action": {"allow"}}, http.StatusBadRequest},
		{"unknown user", http.MethodPost, url.Values{"consent": {id}, "openid": {"oNobody"}, "action": {"allow"}}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		w := oauthDo(t, e, tt.method, "/connect/oauth2/authorize_reply", tt.form)
		if w.Code != tt.status || w.Header().Get("Location") != "" {
			t.Errorf("%s: status %d, Location %q; want %d and no redirect", tt.name, w.Code, w.Header().Get("Location"), tt.status)
		}
	}
	// A page left open for more than 10 minutes cannot be answered.
	if _, err := e.Advance(oauthConsentLifetime); err != nil {
		t.Fatal(err)
	}
	w := oauthDo(t, e, http.MethodPost, "/connect/oauth2/authorize_reply",
		url.Values{"consent": {expiring}, "openid": {oauthUsers[0].OpenID}, "action": {"allow"}})
	if w.Code != http.StatusBadRequest {
		t.Errorf("expired consent: status %d, want 400", w.Code)
	}
}

func TestOAuthBasePicker(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	body, id := consentPage(t, e, oauthScopeBase, "b")
	if strings.Contains(body, "申请获取你的昵称、头像") || strings.Contains(body, "拒绝") {
		t.Errorf("snsapi_base page asks for consent; it should only pick the user:\n%s", body)
	}
	w := oauthDo(t, e, http.MethodPost, "/connect/oauth2/authorize_reply",
		url.Values{"consent": {id}, "openid": {oauthUsers[0].OpenID}, "action": {"allow"}})
	q := redirectQuery(t, w, oauthCallback)
	r := snsCall(t, e, exchangeTarget(oauthApp, oauthSecret, q.Get("code")))
	if r.OpenID != oauthUsers[0].OpenID || r.Scope != oauthScopeBase || r.UnionID != "" {
		t.Errorf("exchange = %+v, want user 0 with snsapi_base and no unionid", r)
	}
}

func TestSNSAccessTokenErrors(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	code := func() string {
		c, err := e.IssueOAuthCode(oauthApp, oauthUsers[0].OpenID, oauthScopeBase)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	otherCode, err := e.IssueOAuthCode(oauthOther, e.Config().Apps[1].Users[0].OpenID, oauthScopeBase)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		target string
		want   int
	}{
		{"appid missing", "/sns/oauth2/access_token?secret=" + oauthSecret + "&code=" + code() + "&grant_type=authorization_code", 41002},
		{"secret missing", "/sns/oauth2/access_token?appid=" + oauthApp + "&code=" + code() + "&grant_type=authorization_code", 41004},
		{"code missing", "/sns/oauth2/access_token?appid=" + oauthApp + "&secret=" + oauthSecret + "&grant_type=authorization_code", 41008},
		{"grant_type", "/sns/oauth2/access_token?appid=" + oauthApp + "&secret=" + oauthSecret + "&code=" + code() + "&grant_type=client_credential", 40002},
		{"unknown appid", exchangeTarget("wx9999999999999999", oauthSecret, code()), 40013},
		{"wrong secret", exchangeTarget(oauthApp, strings.Repeat("0", 32), code()), 40125},
		{"unknown code", exchangeTarget(oauthApp, oauthSecret, "0"+strings.Repeat("A", 31)), 40029},
		{"other app's code", exchangeTarget(oauthApp, oauthSecret, otherCode), 40029},
	}
	for _, tt := range tests {
		r := snsCall(t, e, tt.target)
		if r.ErrCode != tt.want || !strings.HasPrefix(r.ErrMsg, errMsg(tt.want)+" rid: ") {
			t.Errorf("%s: %+v, want errcode %d with the platform's errmsg", tt.name, r, tt.want)
		}
	}
	if w := oauthDo(t, e, http.MethodPost, exchangeTarget(oauthApp, oauthSecret, code()), url.Values{}); !strings.Contains(w.Body.String(), "43001") {
		t.Errorf("POST: %s, want 43001", w.Body.String())
	}
}

func TestSNSCodeSingleUseAndLifetime(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	issue := func() string {
		c, err := e.IssueOAuthCode(oauthApp, oauthUsers[0].OpenID, oauthScopeUserInfo)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	used := issue()
	if r := snsCall(t, e, exchangeTarget(oauthApp, oauthSecret, used)); r.ErrCode != 0 {
		t.Fatalf("first exchange = %+v", r)
	}
	if r := snsCall(t, e, exchangeTarget(oauthApp, oauthSecret, used)); r.ErrCode != 40163 {
		t.Errorf("second exchange = %+v, want 40163", r)
	}

	almost, expired := issue(), issue()
	if _, err := e.Advance(OAuthCodeLifetime - time.Second); err != nil {
		t.Fatal(err)
	}
	if r := snsCall(t, e, exchangeTarget(oauthApp, oauthSecret, almost)); r.ErrCode != 0 {
		t.Errorf("exchange at 4m59s = %+v, want success", r)
	}
	if _, err := e.Advance(time.Second); err != nil {
		t.Fatal(err)
	}
	if r := snsCall(t, e, exchangeTarget(oauthApp, oauthSecret, expired)); r.ErrCode != 40029 {
		t.Errorf("exchange at 5m = %+v, want 40029", r)
	}
}

func TestSNSRefresh(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	g := grant(t, e, oauthUsers[0].OpenID, oauthScopeUserInfo)
	auth := func(tok string) int {
		return snsCall(t, e, "/sns/auth?access_token="+tok+"&openid="+oauthUsers[0].OpenID).ErrCode
	}
	advance := func(d time.Duration) {
		if _, err := e.Advance(d); err != nil {
			t.Fatal(err)
		}
	}

	// Refreshing a valid token returns it with a renewed lifetime.
	advance(time.Hour)
	r := snsCall(t, e, refreshTarget(oauthApp, g.RefreshToken))
	if r.ErrCode != 0 || r.AccessToken != g.AccessToken || r.RefreshToken != g.RefreshToken || r.ExpiresIn != 7200 ||
		r.OpenID != oauthUsers[0].OpenID || r.Scope != oauthScopeUserInfo {
		t.Fatalf("refresh of a valid token = %+v, want the same tokens, openid and scope", r)
	}
	advance(time.Hour + 30*time.Minute) // t0+2h30: past the first lifetime, within the renewed one
	if c := auth(g.AccessToken); c != 0 {
		t.Errorf("/sns/auth after renewal = %d, want 0", c)
	}
	advance(30 * time.Minute) // t0+3h: the renewed lifetime ends
	if c := auth(g.AccessToken); c != 42001 {
		t.Errorf("/sns/auth after expiry = %d, want 42001", c)
	}

	// Refreshing an expired token gives a new one; the old one stays expired.
	r = snsCall(t, e, refreshTarget(oauthApp, g.RefreshToken))
	if r.ErrCode != 0 || r.AccessToken == g.AccessToken || r.RefreshToken != g.RefreshToken {
		t.Fatalf("refresh of an expired token = %+v, want a new access_token and the same refresh_token", r)
	}
	if c := auth(r.AccessToken); c != 0 {
		t.Errorf("/sns/auth of the new token = %d, want 0", c)
	}
	if c := auth(g.AccessToken); c != 42001 {
		t.Errorf("/sns/auth of the old token = %d, want 42001", c)
	}

	// 30 days after the exchange the refresh token is dead.
	advance(SNSRefreshTokenLifetime - 3*time.Hour)
	if r := snsCall(t, e, refreshTarget(oauthApp, g.RefreshToken)); r.ErrCode != 42002 {
		t.Errorf("refresh after 30 days = %+v, want 42002", r)
	}
}

func TestSNSRefreshErrors(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	g := grant(t, e, oauthUsers[0].OpenID, oauthScopeBase)
	tests := []struct {
		name   string
		target string
		want   int
	}{
		{"appid missing", "/sns/oauth2/refresh_token?grant_type=refresh_token&refresh_token=" + g.RefreshToken, 41002},
		{"refresh_token missing", "/sns/oauth2/refresh_token?appid=" + oauthApp + "&grant_type=refresh_token", 41003},
		{"grant_type", "/sns/oauth2/refresh_token?appid=" + oauthApp + "&grant_type=authorization_code&refresh_token=" + g.RefreshToken, 40002},
		{"unknown appid", refreshTarget("wx9999999999999999", g.RefreshToken), 40013},
		{"unknown refresh_token", refreshTarget(oauthApp, "86_nope"), 40030},
		{"other app", refreshTarget(oauthOther, g.RefreshToken), 40030},
		{"access_token as refresh_token", refreshTarget(oauthApp, g.AccessToken), 40030},
	}
	for _, tt := range tests {
		if r := snsCall(t, e, tt.target); r.ErrCode != tt.want {
			t.Errorf("%s: %+v, want errcode %d", tt.name, r, tt.want)
		}
	}
}

func TestSNSUserInfo(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	ui := grant(t, e, oauthUsers[0].OpenID, oauthScopeUserInfo)
	if ui.UnionID != oauthUsers[0].UnionID {
		t.Errorf("exchange unionid = %q, want %q for snsapi_userinfo", ui.UnionID, oauthUsers[0].UnionID)
	}
	base := grant(t, e, oauthUsers[0].OpenID, oauthScopeBase)
	u0 := oauthUsers[0]

	got := snsCall(t, e, "/sns/userinfo?access_token="+ui.AccessToken+"&openid="+u0.OpenID+"&lang=zh_CN")
	want := snsReply{OpenID: u0.OpenID, Nickname: u0.Nickname, Sex: u0.Sex, Province: u0.Province, City: u0.City,
		Country: u0.Country, HeadImgURL: u0.HeadImgURL, Privilege: []string{}, UnionID: u0.UnionID}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("userinfo mismatch (-want +got):\n%s", diff)
	}
	if n := e.Stats().Count("/sns/userinfo", oauthApp).Calls; n != 1 {
		t.Errorf("stats: %d userinfo calls for %s, want 1 (the call is tied to the token's app)", n, oauthApp)
	}

	cgi := call(t, e, http.MethodGet, "/cgi-bin/token?grant_type=client_credential&appid="+oauthApp+"&secret="+oauthSecret, "")
	tests := []struct {
		name   string
		target string
		want   int
	}{
		{"base scope", "/sns/userinfo?access_token=" + base.AccessToken + "&openid=" + u0.OpenID, 48001},
		{"other openid", "/sns/userinfo?access_token=" + ui.AccessToken + "&openid=" + oauthUsers[1].OpenID, 40003},
		{"unknown token", "/sns/userinfo?access_token=86_nope&openid=" + u0.OpenID, 40001},
		{"cgi-bin token", "/sns/userinfo?access_token=" + cgi.AccessToken + "&openid=" + u0.OpenID, 40001},
		{"token missing", "/sns/userinfo?openid=" + u0.OpenID, 41001},
		{"openid missing", "/sns/userinfo?access_token=" + ui.AccessToken, 41009},
	}
	for _, tt := range tests {
		if r := snsCall(t, e, tt.target); r.ErrCode != tt.want {
			t.Errorf("%s: %+v, want errcode %d", tt.name, r, tt.want)
		}
	}
	if _, err := e.Advance(SNSTokenLifetime); err != nil {
		t.Fatal(err)
	}
	if r := snsCall(t, e, "/sns/userinfo?access_token="+ui.AccessToken+"&openid="+u0.OpenID); r.ErrCode != 42001 {
		t.Errorf("expired token: %+v, want 42001", r)
	}
}

func TestSNSAuth(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	g := grant(t, e, oauthUsers[1].OpenID, oauthScopeBase)
	w := oauthDo(t, e, http.MethodGet, "/sns/auth?access_token="+g.AccessToken+"&openid="+oauthUsers[1].OpenID, nil)
	if w.Body.String() != `{"errcode":0,"errmsg":"ok"}` {
		t.Errorf("/sns/auth = %s, want {\"errcode\":0,\"errmsg\":\"ok\"}", w.Body.String())
	}
	tests := []struct {
		name   string
		target string
		want   int
	}{
		{"unknown", "/sns/auth?access_token=86_nope&openid=" + oauthUsers[1].OpenID, 40001},
		{"other openid", "/sns/auth?access_token=" + g.AccessToken + "&openid=" + oauthUsers[0].OpenID, 40003},
		{"missing", "/sns/auth?openid=" + oauthUsers[1].OpenID, 41001},
	}
	for _, tt := range tests {
		if r := snsCall(t, e, tt.target); r.ErrCode != tt.want {
			t.Errorf("%s: %+v, want errcode %d", tt.name, r, tt.want)
		}
	}
	if _, err := e.Advance(SNSTokenLifetime); err != nil {
		t.Fatal(err)
	}
	if r := snsCall(t, e, "/sns/auth?access_token="+g.AccessToken+"&openid="+oauthUsers[1].OpenID); r.ErrCode != 42001 {
		t.Errorf("expired: %+v, want 42001", r)
	}
}

func TestOAuthAutoApproveFromConfig(t *testing.T) {
	cfg := DefaultConfig()
	user := cfg.Apps[0].Users[1].OpenID
	cfg.Apps[0].OAuth.AutoApprove = user
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	code, err := e.IssueOAuthCode(cfg.Apps[0].AppID, user, "snsapi_base")
	if err != nil || code == "" {
		t.Fatalf("IssueOAuthCode = %q, %v", code, err)
	}
	if got := oauthOf(e.app(cfg.Apps[0].AppID)).autoApprove; got != user {
		t.Errorf("autoApprove = %q, want %q from config", got, user)
	}
	cfg.Apps[0].OAuth.AutoApprove = "oNotAUser"
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "apps[0].oauth.auto_approve") {
		t.Errorf("New(auto_approve of a stranger) = %v, want an error naming apps[0].oauth.auto_approve", err)
	}
}
