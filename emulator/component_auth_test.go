package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/internal/corpus"
)

// pageID reads the hidden page id of an authorization page.
var pageIDRE = regexp.MustCompile(`name="page" value="([0-9A-Za-z]+)"`)

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// get fetches target from the emulator's server, without following
// redirects.
func (env *componentEnv) get(t *testing.T, target string) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirect.Get(env.emu.URL + target)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(t, resp)
}

// readAll reads and closes the body of resp.
func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loginPage(pre, redirect string, extra ...string) string {
	v := url.Values{"component_appid": {compAppID}, "pre_auth_code": {pre}, "redirect_uri": {redirect}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return "/cgi-bin/componentloginpage?" + v.Encode()
}

// TestComponentAuthorizationFlow runs the flow a platform's server goes
// through, end to end over HTTP: ticket, token, pre_auth_code, the page,
// the admin's approval, the authorized event, query_auth, acting for the
// account with the authorizer token, refreshing it, the account's info.
func TestComponentAuthorizationFlow(t *testing.T) {
	t.Parallel()
	env := newComponentEnv(t, nil)
	e, p := env.e, env.p
	env.pushTicketNow(t)
	tok := p.componentToken()
	pre := p.preAuthCode(tok)

	// The page lists the hosted accounts; the admin picks the Official Account.
	resp, html := env.get(t, loginPage(pre, "https://platform.example/callback?from=page"))
	if resp.StatusCode != 200 || resp.Header.Get(ComponentPageErrorHeader) != "" {
		t.Fatalf("page: %d %s", resp.StatusCode, resp.Header.Get(ComponentPageErrorHeader))
	}
	for _, want := range []string{compName, "测试公众号", testAppID, "测试小程序", mpAppID, `action="componentloginpage_reply"`} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	m := pageIDRE.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no page id in %s", html)
	}
	resp, err := noRedirect.PostForm(env.emu.URL+"/cgi-bin/componentloginpage_reply", url.Values{
		"page": {m[1]}, "authorizer_appid": {testAppID}, "action": {"allow"},
	})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("approval: %d, want 302", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	authCode := loc.Query().Get("auth_code")
	if loc.Host != "platform.example" || loc.Path != "/callback" || loc.Query().Get("from") != "page" ||
		loc.Query().Get("expires_in") != "3600" || !strings.HasPrefix(authCode, "queryauthcode@@@") {
		t.Errorf("redirect = %s", loc)
	}

	// The authorized event came before the redirect.
	evs := p.eventsOf(InfoTypeAuthorized)
	if len(evs) != 1 {
		t.Fatalf("%d authorized events, want 1", len(evs))
	}
	wantEv := map[string]string{
		"AppId": compAppID, "CreateTime": strconv.FormatInt(t0.Unix(), 10), "InfoType": "authorized",
		"AuthorizerAppid": testAppID, "AuthorizationCode": authCode,
		"AuthorizationCodeExpiredTime": strconv.FormatInt(t0.Add(time.Hour).Unix(), 10), "PreAuthCode": pre,
	}
	if diff := cmp.Diff(wantEv, evs[0]); diff != "" {
		t.Errorf("authorized event (-want +got):\n%s", diff)
	}
	// Its fields are those of the corpus sample.
	var sample struct {
		Fields map[string]string `json:"fields"`
	}
	corpus.DecodeJSON(t, &sample, "messages", "component_authorized.json")
	for k := range sample.Fields {
		if _, ok := evs[0][k]; !ok {
			t.Errorf("the authorized event lacks %s", k)
		}
	}

	// The pre_auth_code was spent.
	if resp, _ := env.get(t, loginPage(pre, "https://platform.example/callback")); resp.Header.Get(ComponentPageErrorHeader) != "pre_auth_code" {
		t.Errorf("page with a spent pre_auth_code: error %q", resp.Header.Get(ComponentPageErrorHeader))
	}

	// query_auth.
	status, body := postRaw(t, env, "/cgi-bin/component/api_query_auth?component_access_token="+url.QueryEscape(tok),
		`{"component_appid":"`+compAppID+`","authorization_code":"`+authCode+`"}`)
	if status != 200 {
		t.Fatalf("api_query_auth: %d", status)
	}
	sameShape(t, "component_api_query_auth.json", body)
	var qa queryAuthReply
	_ = json.Unmarshal(body, &qa)
	info := qa.AuthorizationInfo
	if info.AuthorizerAppID != testAppID || info.ExpiresIn != 7200 || !strings.HasPrefix(info.AuthorizerRefreshToken, "refreshtoken@@@") ||
		len(info.FuncInfo) == 0 || info.FuncInfo[0].FuncscopeCategory.ID != 1 {
		t.Errorf("authorization_info = %+v", info)
	}

	// The authorizer token acts for the account on its APIs.
	menu := `{"button":[{"type":"click","name":"今日歌曲","key":"V1001"}]}`
	if code := p.post("/cgi-bin/menu/create?access_token="+url.QueryEscape(info.AuthorizerAccessToken), json.RawMessage(menu), nil); code != 0 {
		t.Fatalf("menu/create with the authorizer token: errcode %d", code)
	}
	if m, err := e.MenuFor(testAppID, e.Apps()[0].Users[0].OpenID); err != nil || m == nil || len(m.Buttons) == 0 || m.Buttons[0].Key != "V1001" {
		t.Errorf("the account's menu = %+v, %v", m, err)
	}
	if got := e.Stats().Count("/cgi-bin/menu/create", testAppID); got.Calls != 1 {
		t.Errorf("menu/create counted %+v for the account", got)
	}

	// api_authorizer_token: a new token, the same refresh token; the token
	// before it keeps 5 minutes.
	refresh := func(rt string) (int, []byte) {
		return postRaw(t, env, "/cgi-bin/component/api_authorizer_token?component_access_token="+url.QueryEscape(tok),
			fmt.Sprintf(`{"component_appid":%q,"authorizer_appid":%q,"authorizer_refresh_token":%q}`, compAppID, testAppID, rt))
	}
	_, body = refresh(info.AuthorizerRefreshToken)
	sameShape(t, "component_api_authorizer_token.json", body)
	var rt struct {
		AuthorizerAccessToken  string `json:"authorizer_access_token"`
		ExpiresIn              int    `json:"expires_in"`
		AuthorizerRefreshToken string `json:"authorizer_refresh_token"`
	}
	_ = json.Unmarshal(body, &rt)
	if rt.AuthorizerRefreshToken != info.AuthorizerRefreshToken || rt.AuthorizerAccessToken == info.AuthorizerAccessToken || rt.ExpiresIn != 7200 {
		t.Errorf("api_authorizer_token = %+v", rt)
	}
	menuGet := func(tok string) apiReply {
		return call(t, e, "GET", "/cgi-bin/menu/get?access_token="+url.QueryEscape(tok), "")
	}
	if r := menuGet(info.AuthorizerAccessToken); r.ErrCode != 0 {
		t.Errorf("the token before, within 5 minutes: %d", r.ErrCode)
	}
	advance(t, e, 5*time.Minute)
	wantErr(t, "the token before, after 5 minutes", menuGet(info.AuthorizerAccessToken), 40001)
	if r := menuGet(rt.AuthorizerAccessToken); r.ErrCode != 0 {
		t.Errorf("the new token: %d", r.ErrCode)
	}
	var bad apiReply
	_, body = refresh("refreshtoken@@@wrong")
	_ = json.Unmarshal(body, &bad)
	wantErr(t, "unknown refresh token", bad, 61023)
	if got := e.Stats().TokenFetches[testAppID]; got.AuthorizerToken != 2 {
		t.Errorf("token fetches of the account = %+v, want 2 authorizer tokens", got)
	}
	if got := e.Stats().Components[compAppID]; got.AuthorizerTokens != 2 || got.PreAuthCodes != 1 || got.EventPushes != 1 {
		t.Errorf("platform stats = %+v", got)
	}

	// The account's info.
	status, body = postRaw(t, env, "/cgi-bin/component/api_get_authorizer_info?component_access_token="+url.QueryEscape(tok),
		`{"component_appid":"`+compAppID+`","authorizer_appid":"`+testAppID+`"}`)
	if status != 200 {
		t.Fatalf("api_get_authorizer_info: %d", status)
	}
	var ai struct {
		AuthorizerInfo    map[string]any `json:"authorizer_info"`
		AuthorizationInfo map[string]any `json:"authorization_info"`
	}
	_ = json.Unmarshal(body, &ai)
	if ai.AuthorizerInfo["nick_name"] != "测试公众号" || ai.AuthorizerInfo["user_name"] != e.Apps()[0].OriginalID ||
		ai.AuthorizationInfo["authorizer_appid"] != testAppID || ai.AuthorizationInfo["authorizer_refresh_token"] != info.AuthorizerRefreshToken {
		t.Errorf("api_get_authorizer_info = %s", body)
	}
	var sampleInfo struct {
		AuthorizerInfo map[string]any `json:"authorizer_info"`
	}
	corpus.DecodeJSON(t, &sampleInfo, "api", "component_api_get_authorizer_info.json")
	if diff := cmp.Diff(jsonShape(sampleInfo.AuthorizerInfo), jsonShape(subsetOf(ai.AuthorizerInfo, sampleInfo.AuthorizerInfo))); diff != "" {
		t.Errorf("authorizer_info lacks fields of the corpus sample (-corpus +emulator):\n%s", diff)
	}
	wantErr(t, "account that did not authorize", call(t, e, "POST", "/cgi-bin/component/api_get_authorizer_info?component_access_token="+url.QueryEscape(tok),
		`{"component_appid":"`+compAppID+`","authorizer_appid":"`+mpAppID+`"}`), 61003)
}

// subsetOf returns the fields of got that want has.
func subsetOf(got, want map[string]any) map[string]any {
	out := map[string]any{}
	for k := range want {
		if v, ok := got[k]; ok {
			out[k] = v
		}
	}
	return out
}

// postRaw POSTs body to the emulator's server and returns the answer.
func postRaw(t *testing.T, env *componentEnv, target, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(env.emu.URL+target, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, []byte(readAll(t, resp))
}

func TestComponentQueryAuthErrors(t *testing.T) {
	t.Parallel()
	env := newComponentEnv(t, nil)
	e, p := env.e, env.p
	env.pushTicketNow(t)
	res := env.authorizeViaControl(t, testAppID)
	tok := p.componentToken()
	q := func(code string) apiReply {
		return call(t, e, "POST", "/cgi-bin/component/api_query_auth?component_access_token="+url.QueryEscape(tok),
			`{"component_appid":"`+compAppID+`","authorization_code":"`+code+`"}`)
	}
	// A code may be exchanged again while valid.
	for i := range 2 {
		if r := p.queryAuth(tok, res.AuthCode); r.ErrCode != 0 || r.AuthorizationInfo.AuthorizerAccessToken == "" {
			t.Errorf("exchange %d: %+v", i+1, r)
		}
	}
	wantErr(t, "unknown code", q("queryauthcode@@@nope"), 61009)
	wantErr(t, "code missing", q(""), 41008)
	advance(t, e, AuthorizationCodeLifetime)
	tok = p.componentToken() // the ticket is still valid; the token before expired
	wantErr(t, "expired code", call(t, e, "POST", "/cgi-bin/component/api_query_auth?component_access_token="+url.QueryEscape(tok),
		`{"component_appid":"`+compAppID+`","authorization_code":"`+res.AuthCode+`"}`), 61010)
}

func TestComponentAuthorizeControl(t *testing.T) {
	t.Parallel()
	env := newComponentEnv(t, nil)
	e, p := env.e, env.p
	env.pushTicketNow(t)
	tok := p.componentToken()
	ctl := func(body string) (int, map[string]any) {
		var out map[string]any
		st := serveJSON(t, e, "POST", "/_emulator/components/"+compAppID+"/authorize", body, &out)
		return st, out
	}
	// Without the page and without redirect_uri: refused; after the page
	// is opened its redirect_uri is used.
	pre := p.preAuthCode(tok)
	if st, out := ctl(`{"authorizer_appid":"` + mpAppID + `","pre_auth_code":"` + pre + `"}`); st != 409 {
		t.Errorf("authorize without redirect_uri: %d %v", st, out)
	}
	env.get(t, loginPage(pre, "http://platform.example/cb", "auth_type", "2"))
	st, out := ctl(`{"authorizer_appid":"` + testAppID + `","pre_auth_code":"` + pre + `"}`)
	if st != 409 || !strings.Contains(fmt.Sprint(out["error"]), "auth_type") {
		t.Errorf("an Official Account on an auth_type=2 page: %d %v", st, out)
	}
	st, out = ctl(`{"authorizer_appid":"` + mpAppID + `","pre_auth_code":"` + pre + `"}`)
	if st != 200 || !strings.HasPrefix(fmt.Sprint(out["redirect"]), "http://platform.example/cb?auth_code=queryauthcode%40%40%40") {
		t.Fatalf("authorize: %d %v", st, out)
	}
	if ev, _ := out["event"].(map[string]any); ev["info_type"] != "authorized" || ev["acknowledged"] != true {
		t.Errorf("event = %v", out["event"])
	}
	if st, _ := ctl(`{"authorizer_appid":"` + mpAppID + `","pre_auth_code":"` + pre + `"}`); st != 409 {
		t.Errorf("a spent pre_auth_code: %d", st)
	}
	if st, _ := ctl(`{"authorizer_appid":"wxnope","pre_auth_code":"` + p.preAuthCode(tok) + `"}`); st != 404 {
		t.Errorf("unknown account: %d", st)
	}
	if st, _ := serveRaw(t, e, "POST", "/_emulator/components/wxnope/authorize", `{}`); st != 404 {
		t.Errorf("unknown platform: %d", st)
	}
	// Authorizing again: updateauthorized, and a new refresh token.
	first := p.queryAuth(tok, fmt.Sprint(out["auth_code"])).AuthorizationInfo.AuthorizerRefreshToken
	again := env.authorizeViaControl(t, mpAppID)
	if again.Event.InfoType != InfoTypeUpdateAuthorized || len(p.eventsOf(InfoTypeUpdateAuthorized)) != 1 {
		t.Errorf("second authorization event = %+v", again.Event)
	}
	second := p.queryAuth(tok, again.AuthCode).AuthorizationInfo.AuthorizerRefreshToken
	if second == first {
		t.Errorf("the refresh token did not change on a new authorization")
	}
	wantErr(t, "the refresh token before the new authorization", call(t, e, "POST",
		"/cgi-bin/component/api_authorizer_token?component_access_token="+url.QueryEscape(tok),
		fmt.Sprintf(`{"component_appid":%q,"authorizer_appid":%q,"authorizer_refresh_token":%q}`, compAppID, mpAppID, first)), 61023)

	info, _ := e.Component(compAppID)
	if len(info.Authorizers) != 1 || info.Authorizers[0].AppID != mpAppID || !slicesEqual(info.Authorizers[0].FuncInfo, miniProgramFuncs) {
		t.Errorf("authorizers = %+v", info.Authorizers)
	}
}

func slicesEqual(a, b []int) bool { return cmp.Equal(a, b) }

func TestComponentLoginPageErrors(t *testing.T) {
	t.Parallel()
	env := newComponentEnv(t, func(c *Config) { c.Apps = c.Apps[:2] }) // Official Accounts only
	p := env.p
	env.pushTicketNow(t)
	tok := p.componentToken()
	pre := p.preAuthCode(tok)
	tests := []struct {
		name, target, want string
	}{
		{"unknown platform", "/cgi-bin/componentloginpage?component_appid=wxnope&pre_auth_code=" + url.QueryEscape(pre) + "&redirect_uri=http://x/", "component_appid"},
		{"unknown pre_auth_code", loginPage("preauthcode@@@nope", "http://x/"), "pre_auth_code"},
		{"redirect_uri missing", loginPage(pre, ""), "redirect_uri"},
		{"relative redirect_uri", loginPage(pre, "/callback"), "redirect_uri"},
		{"auth_type", loginPage(pre, "http://x/", "auth_type", "9"), "auth_type"},
		{"no Mini Program to offer", loginPage(pre, "http://x/", "auth_type", "2"), "accounts"},
		{"biz_appid of no account", loginPage(pre, "http://x/", "biz_appid", "wxnope"), "biz_appid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, html := env.get(t, tt.target)
			if resp.StatusCode != 200 || resp.Header.Get(ComponentPageErrorHeader) != tt.want || !strings.Contains(html, "授权") {
				t.Errorf("page = %d, error %q, want 200 with error %q", resp.StatusCode, resp.Header.Get(ComponentPageErrorHeader), tt.want)
			}
		})
	}
	// The mobile page, with biz_appid: one account; 取消 shows a page and
	// spends nothing; a page answers once.
	_, html := env.get(t, "/safe/bindcomponent?"+url.Values{
		"action": {"bindcomponent"}, "no_scan": {"1"}, "component_appid": {compAppID}, "pre_auth_code": {pre},
		"redirect_uri": {"http://x/cb"}, "biz_appid": {otherAppID},
	}.Encode())
	if !strings.Contains(html, otherAppID) || strings.Contains(html, testAppID) || !strings.Contains(html, `action="bindcomponent_reply"`) {
		t.Errorf("mobile page with biz_appid lists the wrong accounts")
	}
	id := pageIDRE.FindStringSubmatch(html)[1]
	resp, err := noRedirect.PostForm(env.emu.URL+"/safe/bindcomponent_reply", url.Values{"page": {id}, "authorizer_appid": {otherAppID}, "action": {"deny"}})
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(body, "已取消授权") {
		t.Errorf("deny: %d", resp.StatusCode)
	}
	if resp, err = noRedirect.PostForm(env.emu.URL+"/safe/bindcomponent_reply", url.Values{"page": {id}, "authorizer_appid": {otherAppID}, "action": {"allow"}}); err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.Header.Get(ComponentPageErrorHeader) != "page" {
		t.Errorf("second answer of a page: error %q", resp.Header.Get(ComponentPageErrorHeader))
	}
	if n := len(p.eventsOf(InfoTypeAuthorized)); n != 0 {
		t.Errorf("%d authorized events after a refusal", n)
	}
	// The pre_auth_code is still good.
	res, err := env.e.AuthorizeComponent(t.Context(), compAppID, otherAppID, pre, "")
	if err != nil || !strings.HasPrefix(res.Redirect, "http://x/cb?auth_code=") {
		t.Errorf("AuthorizeComponent after the refusal: %v %+v", err, res)
	}
}

// TestComponentMobilePage approves an account on the mobile page at its
// current address (/wxaopen/safe/bindcomponent, the link openplatform's
// MobileAuthorizeURL builds) and at the older /safe/bindcomponent, posting
// the form where the page's relative action leads, and spends the
// auth_code with query_auth.
func TestComponentMobilePage(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/wxaopen/safe/bindcomponent", "/safe/bindcomponent"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			env := newComponentEnv(t, nil)
			p := env.p
			env.pushTicketNow(t)
			tok := p.componentToken()
			pre := p.preAuthCode(tok)
			page := path + "?" + url.Values{
				"action": {"bindcomponent"}, "no_scan": {"1"}, "component_appid": {compAppID}, "pre_auth_code": {pre},
				"redirect_uri": {"https://platform.example/cb"}, "auth_type": {"1"},
			}.Encode() + "#wechat_redirect"
			resp, html := env.get(t, page)
			if resp.StatusCode != 200 || resp.Header.Get(ComponentPageErrorHeader) != "" {
				t.Fatalf("GET %s = %d, error %q", path, resp.StatusCode, resp.Header.Get(ComponentPageErrorHeader))
			}
			// auth_type 1: Official Accounts only.
			if !strings.Contains(html, testAppID) || strings.Contains(html, mpAppID) {
				t.Errorf("the page with auth_type 1 lists the wrong accounts")
			}
			action := regexp.MustCompile(`<form[^>]* action="([^"]+)"`).FindStringSubmatch(html)
			id := pageIDRE.FindStringSubmatch(html)
			if action == nil || id == nil {
				t.Fatalf("no form or page id in %s", html)
			}
			reply, err := url.Parse(env.emu.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			reply = reply.ResolveReference(&url.URL{Path: action[1]})
			if want := path + "_reply"; reply.Path != want {
				t.Errorf("the form posts to %s, want %s", reply.Path, want)
			}
			resp, err = noRedirect.PostForm(reply.String(), url.Values{"page": {id[1]}, "authorizer_appid": {testAppID}, "action": {"allow"}})
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, resp)
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != "platform.example" || loc.Path != "/cb" {
				t.Fatalf("approval = %d to %q, want 302 to the redirect_uri", resp.StatusCode, resp.Header.Get("Location"))
			}
			qa := p.queryAuth(tok, loc.Query().Get("auth_code"))
			if qa.ErrCode != 0 || qa.AuthorizationInfo.AuthorizerAppID != testAppID {
				t.Errorf("api_query_auth = %+v, want %s authorized", qa, testAppID)
			}
		})
	}
}
