package openplatform

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// Test component credentials. The secrets are distinctive so that tests
// can look for them in errors, logs and stores.
const (
	testComponent  = "wxcomponent0000001"
	testSecret     = "COMPONENT-SECRET-must-not-leak-0001"
	testToken      = "componenttoken"
	testAESKey     = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	testAuthorizer = "wxauthorizer000001"
	testUserName   = "gh_authorizer0001"
)

// testClock is a settable clock.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
func (c *testClock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }

// fakePlatform is api.weixin.qq.com for one component, as far as these
// tests need it: tickets, component tokens, pre-auth codes, authorization
// codes, authorizer tokens and refresh tokens, account info, and the menu
// API called with an authorizer token. It checks what the real platform
// checks and answers its errcodes.
type fakePlatform struct {
	t     *testing.T
	clock *testClock
	url   string // base URL, with a path prefix that fails loudly if lost

	// componentAppID is the component the platform knows (default
	// testComponent); set it before the first call.
	componentAppID string

	mu                sync.Mutex
	tickets           map[string]time.Time // ticket → expiry
	componentTokens   map[string]time.Time // component_access_token → expiry
	componentFetches  int
	preAuthCodes      map[string]time.Time
	authCodes         map[string]string // authorization code → authorizer appid
	refreshTokens     map[string]string // authorizer appid → current refresh token
	rotateRefresh     bool              // answer refreshes with a new refresh token
	authorizerTokens  map[string]string // authorizer_access_token → appid
	authorizerFetches map[string]int    // appid → api_authorizer_token calls
	userNames         map[string]string // appid → original id
	menus             map[string]string // appid → last menu body
	seq               int
}

func newFakePlatform(t *testing.T, clock *testClock) *fakePlatform {
	t.Helper()
	p := &fakePlatform{
		t:                 t,
		clock:             clock,
		componentAppID:    testComponent,
		tickets:           map[string]time.Time{},
		componentTokens:   map[string]time.Time{},
		preAuthCodes:      map[string]time.Time{},
		authCodes:         map[string]string{},
		refreshTokens:     map[string]string{},
		authorizerTokens:  map[string]string{},
		authorizerFetches: map[string]int{},
		userNames:         map[string]string{testAuthorizer: testUserName},
		menus:             map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cgi-bin/component/api_component_token", p.componentToken)
	mux.HandleFunc("POST /cgi-bin/component/api_create_preauthcode", p.withComponentToken(p.preAuthCode))
	mux.HandleFunc("POST /cgi-bin/component/api_query_auth", p.withComponentToken(p.queryAuth))
	mux.HandleFunc("POST /cgi-bin/component/api_authorizer_token", p.withComponentToken(p.authorizerToken))
	mux.HandleFunc("POST /cgi-bin/component/api_get_authorizer_info", p.withComponentToken(p.authorizerInfo))
	mux.HandleFunc("POST /cgi-bin/menu/create", p.menuCreate)
	outer := http.NewServeMux()
	outer.Handle("/prefix/", http.StripPrefix("/prefix", mux))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request to %s lost the base URL's path prefix", r.URL.Path)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	p.url = srv.URL + "/prefix/"
	return p
}

// issueTicket makes a ticket valid for 12 hours from now, as the platform
// does before pushing it.
func (p *fakePlatform) issueTicket() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	tk := fmt.Sprintf("ticket@@@%d", p.seq)
	p.tickets[tk] = p.clock.Now().Add(12 * time.Hour)
	return tk
}

// authorize stands for the administrator approving on the authorization
// page: it consumes the pre-auth code and returns an authorization code.
func (p *fakePlatform) authorize(preAuthCode, appID string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	exp, ok := p.preAuthCodes[preAuthCode]
	if !ok || !p.clock.Now().Before(exp) {
		p.t.Fatalf("authorize with pre_auth_code %q: unknown or expired", preAuthCode)
	}
	delete(p.preAuthCodes, preAuthCode)
	p.seq++
	code := fmt.Sprintf("queryauthcode@@@%d", p.seq)
	p.authCodes[code] = appID
	return code
}

func (p *fakePlatform) counts() (componentFetches int, authorizerFetches map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := map[string]int{}
	for k, v := range p.authorizerFetches {
		m[k] = v
	}
	return p.componentFetches, m
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, map[string]any{"errcode": code, "errmsg": msg + " rid: 6a1b2c3d-00000000-00000000"})
}

func (p *fakePlatform) body(r *http.Request) map[string]string {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		p.t.Errorf("read body: %v", err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		p.t.Errorf("%s: body %q is not a JSON object of strings: %v", r.URL.Path, b, err)
	}
	return m
}

func (p *fakePlatform) componentToken(w http.ResponseWriter, r *http.Request) {
	b := p.body(r)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.componentFetches++
	exp, ok := p.tickets[b["component_verify_ticket"]]
	switch {
	case b["component_appid"] != p.componentAppID || b["component_appsecret"] != testSecret:
		writeErr(w, 40125, "invalid appsecret")
	case !ok:
		writeErr(w, 61006, "component ticket is invalid")
	case !p.clock.Now().Before(exp):
		writeErr(w, 61005, "component ticket is expired")
	default:
		p.seq++
		tok := fmt.Sprintf("componenttoken-%d", p.seq)
		p.componentTokens[tok] = p.clock.Now().Add(7200 * time.Second)
		writeJSON(w, map[string]any{"component_access_token": tok, "expires_in": 7200})
	}
}

// withComponentToken checks the component_access_token query parameter
// and the component_appid of the body.
func (p *fakePlatform) withComponentToken(h func(http.ResponseWriter, map[string]string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("access_token") {
			p.t.Errorf("%s: access_token parameter sent to a component API", r.URL.Path)
		}
		b := p.body(r)
		p.mu.Lock()
		exp, ok := p.componentTokens[r.URL.Query().Get("component_access_token")]
		p.mu.Unlock()
		switch {
		case !ok:
			writeErr(w, 40001, "invalid credential, access_token is invalid or not latest")
		case !p.clock.Now().Before(exp):
			writeErr(w, 42001, "access_token expired")
		case b["component_appid"] != p.componentAppID:
			writeErr(w, 61011, "invalid component")
		default:
			h(w, b)
		}
	}
}

func (p *fakePlatform) preAuthCode(w http.ResponseWriter, _ map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	code := fmt.Sprintf("preauthcode@@@%d", p.seq)
	p.preAuthCodes[code] = p.clock.Now().Add(1800 * time.Second)
	writeJSON(w, map[string]any{"pre_auth_code": code, "expires_in": 1800})
}

func (p *fakePlatform) newAuthorizerToken(appID string) string {
	p.seq++
	tok := fmt.Sprintf("authorizertoken-%s-%d", appID, p.seq)
	p.authorizerTokens[tok] = appID
	return tok
}

func (p *fakePlatform) queryAuth(w http.ResponseWriter, b map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	appID, ok := p.authCodes[b["authorization_code"]]
	if !ok {
		writeErr(w, 61009, "code is invalid")
		return
	}
	delete(p.authCodes, b["authorization_code"]) // single use
	p.seq++
	rt := fmt.Sprintf("refreshtoken@@@%s-%d", appID, p.seq)
	p.refreshTokens[appID] = rt
	writeJSON(w, map[string]any{"authorization_info": map[string]any{
		"authorizer_appid":         appID,
		"authorizer_access_token":  p.newAuthorizerToken(appID),
		"expires_in":               7200,
		"authorizer_refresh_token": rt,
		"func_info": []any{
			map[string]any{"funcscope_category": map[string]int{"id": 1}},
			map[string]any{"funcscope_category": map[string]int{"id": 15}},
		},
	}})
}

func (p *fakePlatform) authorizerToken(w http.ResponseWriter, b map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	appID := b["authorizer_appid"]
	p.authorizerFetches[appID]++
	rt, ok := p.refreshTokens[appID]
	if !ok || b["authorizer_refresh_token"] != rt {
		writeErr(w, 61023, "refresh_token is invalid")
		return
	}
	if p.rotateRefresh {
		p.seq++
		rt = fmt.Sprintf("refreshtoken@@@%s-%d", appID, p.seq)
		p.refreshTokens[appID] = rt
	}
	writeJSON(w, map[string]any{"authorizer_access_token": p.newAuthorizerToken(appID), "expires_in": 7200, "authorizer_refresh_token": rt})
}

func (p *fakePlatform) authorizerInfo(w http.ResponseWriter, b map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	appID := b["authorizer_appid"]
	writeJSON(w, map[string]any{
		"authorizer_info": map[string]any{
			"nick_name":         "Account " + appID,
			"head_img":          "http://wx.qlogo.cn/mmopen/x/0",
			"service_type_info": map[string]int{"id": 2},
			"verify_type_info":  map[string]int{"id": 0},
			"user_name":         p.userNames[appID],
			"principal_name":    "腾讯计算机系统有限公司",
			"alias":             "alias_" + appID,
			"business_info":     map[string]int{"open_pay": 1, "open_card": 0},
			"qrcode_url":        "http://mmbiz.qpic.cn/mmbiz/x/0",
			"account_status":    1,
		},
		"authorization_info": map[string]any{
			"authorizer_appid": appID,
			"func_info": []any{
				map[string]any{"funcscope_category": map[string]int{"id": 1}},
				map[string]any{"funcscope_category": map[string]int{"id": 15}},
			},
		},
	})
}

func (p *fakePlatform) menuCreate(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	defer p.mu.Unlock()
	appID, ok := p.authorizerTokens[r.URL.Query().Get("access_token")]
	if !ok {
		writeErr(w, 40001, "invalid credential, access_token is invalid or not latest")
		return
	}
	p.menus[appID] = string(b)
	writeErr(w, 0, "ok")
}

// notify POSTs msgXML to h as the platform pushes to the authorization
// event URL: encrypted for appID (in the ciphertext) with the component's
// token and key, timestamped by clock.
func notify(t *testing.T, h http.Handler, clock *testClock, appID, msgXML string) *httptest.ResponseRecorder {
	t.Helper()
	req := webhooktest.NewEncryptedRequest(testToken, testAESKey, appID, []byte(msgXML), webhook.ModeSafe,
		&webhooktest.RequestOptions{Target: "/component/notify", Timestamp: clock.Now().Unix()})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// ticketXML is a component_verify_ticket push.
func ticketXML(componentAppID, ticket string, created time.Time) string {
	return "<xml><AppId><![CDATA[" + componentAppID + "]]></AppId><CreateTime>" + strconv.FormatInt(created.Unix(), 10) +
		"</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[" +
		ticket + "]]></ComponentVerifyTicket></xml>"
}

// authEventXML is an authorized, updateauthorized or unauthorized push.
func authEventXML(componentAppID, infoType, authorizer, code string, created time.Time) string {
	var b strings.Builder
	b.WriteString("<xml><AppId><![CDATA[" + componentAppID + "]]></AppId><CreateTime>" + strconv.FormatInt(created.Unix(), 10) +
		"</CreateTime><InfoType><![CDATA[" + infoType + "]]></InfoType><AuthorizerAppid><![CDATA[" + authorizer + "]]></AuthorizerAppid>")
	if code != "" {
		b.WriteString("<AuthorizationCode><![CDATA[" + code + "]]></AuthorizationCode><AuthorizationCodeExpiredTime>" +
			strconv.FormatInt(created.Add(time.Hour).Unix(), 10) + "</AuthorizationCodeExpiredTime><PreAuthCode><![CDATA[preauthcode@@@x]]></PreAuthCode>")
	}
	b.WriteString("</xml>")
	return b.String()
}
