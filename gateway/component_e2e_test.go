package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/openplatform"
	"github.com/wxkit/wxkit/store/postgres/pgtest"
	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// The component of the gateway's Open Platform tests, and the second
// account that WeChat's release check uses.
const (
	testCompAppID   = "wx7777777777777777"
	testCompSecret  = "77777777777777777777777777777777"
	testCompToken   = "compgatewaytoken"
	testCompAESKey  = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg"
	testReleaseApp  = "wx8888888888888888"
	testReleaseUser = "oRelease00000000000000000000"
	testTokenSecret = "component-token-service-secret"
)

// authorizerToken asks gateway i's token service for the authorizer's
// token: GET /token/{authorizer}?component=; it returns the status and
// the token (or the errcode as text).
func (env *compEnv) authorizerToken(ctx context.Context, t *testing.T, i int, component, authorizer string) (int, string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", env.urls[i]+"/token/"+authorizer+"?component="+component, nil)
	req.Header.Set("Authorization", "Bearer "+testTokenSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("GET /token: %v", err)
		return 0, ""
	}
	var body struct {
		AccessToken string `json:"access_token"`
		ErrCode     int    `json:"errcode"`
	}
	json.Unmarshal(readAll(t, resp), &body)
	if body.AccessToken == "" {
		return resp.StatusCode, fmt.Sprint(body.ErrCode)
	}
	return resp.StatusCode, body.AccessToken
}

// compEnv is n gateways sharing one store in front of one emulator that
// hosts the component (pushing to the first gateway) and two accounts: the
// demo app, which authorizes the component through the gateway, and
// testReleaseApp, the release check's account.
type compEnv struct {
	emu  *emulatortest.Server
	gws  []*Gateway
	urls []string
	logs []*logBuffer
	fan  string // the demo app's first follower
}

func newCompEnv(t *testing.T, n int, storeURL string) *compEnv {
	t.Helper()
	ecfg := emulator.DefaultConfig()
	demo := ecfg.Apps[0]
	rel := demo
	rel.AppID, rel.OriginalID, rel.Name, rel.PushURL, rel.OAuth = testReleaseApp, "", "release check account", "", emulator.OAuthConfig{}
	rel.Users = []emulator.UserConfig{{OpenID: testReleaseUser, Nickname: "tester"}}
	ecfg.Apps = append(ecfg.Apps, rel)
	ecfg.Merchants = nil
	ecfg.Components = []emulator.ComponentConfig{{AppID: testCompAppID, Secret: testCompSecret, Token: testCompToken, EncodingAESKey: testCompAESKey}}
	env := &compEnv{emu: emulatortest.New(t, ecfg), fan: demo.Users[0].OpenID}

	servers := make([]*httptest.Server, n)
	for i := range n {
		servers[i] = httptest.NewUnstartedServer(nil)
		t.Cleanup(servers[i].Close)
		host := servers[i].Listener.Addr().String()
		cfg := &Config{
			Listen:       host,
			PublicURL:    "http://" + host,
			Store:        storeURL,
			OAuth:        OAuthConfig{Secret: testOAuthSecret},
			TokenService: TokenServiceConfig{Secret: testTokenSecret},
			WeChat:       WeChatConfig{APIBase: env.emu.URL, OpenBase: env.emu.URL, PayBase: env.emu.URL, MPBase: env.emu.URL},
			Components: []ComponentConfig{{AppID: testCompAppID, Secret: testCompSecret, Token: testCompToken, EncodingAESKey: testCompAESKey,
				RefreshTokenKey: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
				AuthorizerReplies: RepliesConfig{
					Keywords: []KeywordRule{{Match: "hello", ReplyConfig: ReplyConfig{Text: "world from the component"}}},
					Default:  &ReplyConfig{Echo: true},
				}}},
		}
		if err := cfg.Normalize(); err != nil {
			t.Fatal(err)
		}
		logs := &logBuffer{}
		g, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), WithClock(env.emu.Now))
		if err != nil {
			t.Fatalf("instance %d: New = %v", i, err)
		}
		t.Cleanup(func() { g.Close() })
		servers[i].Config.Handler = g.Handler()
		servers[i].Start()
		env.gws, env.urls, env.logs = append(env.gws, g), append(env.urls, "http://"+host), append(env.logs, logs)
	}
	push := env.urls[0] + "/component/" + testCompAppID + "/notify"
	msg := env.urls[0] + "/component/" + testCompAppID + "/wx/$APPID$"
	if err := env.emu.SetComponentURLs(testCompAppID, &push, &msg); err != nil {
		t.Fatal(err)
	}
	return env
}

// control calls the emulator's control API and decodes its answer.
func (env *compEnv) control(t *testing.T, path string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(env.emu.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	raw := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s = %d %s", path, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("POST %s: %v: %s", path, err, raw)
	}
}

// storedTicket returns the component's ticket in the shared token store.
func (env *compEnv) storedTicket(t *testing.T) string {
	t.Helper()
	tok, err := env.gws[0].Stores().Tokens.Get(t.Context(), token.ComponentTicketKey(testCompAppID))
	if errors.Is(err, token.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return tok.Value
}

// pushTicket has the emulator push a fresh ticket (control API) and checks
// that the gateway acknowledged and stored it.
func (env *compEnv) pushTicket(t *testing.T) string {
	t.Helper()
	var p emulator.ComponentPush
	env.control(t, "/_emulator/components/"+testCompAppID+"/ticket", struct{}{}, &p)
	if !p.Acknowledged || p.Ticket == "" {
		t.Fatalf("ticket push = %+v, want acknowledged", p)
	}
	if got := env.storedTicket(t); got != p.Ticket {
		t.Fatalf("stored ticket = %q, want the pushed %q", got, p.Ticket)
	}
	return p.Ticket
}

// authorize runs the authorization flow of account appID through gateway
// i with a browser (cookie jar): /authorize, the platform's page, the
// administrator's approval (control API), the callback. It returns the
// callback's redirect target.
func (env *compEnv) authorize(t *testing.T, i int, appID, ret string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, body := get(t, cl, env.urls[i]+"/component/"+testCompAppID+"/authorize?return="+url.QueryEscape(ret))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("/authorize = %d %s, want 302", resp.StatusCode, body)
	}
	page, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || page.Path != "/cgi-bin/componentloginpage" || page.Query().Get("component_appid") != testCompAppID {
		t.Fatalf("/authorize redirects to %q, want the emulator's componentloginpage of the component", resp.Header.Get("Location"))
	}
	if want := env.urls[i] + "/component/" + testCompAppID + "/callback"; page.Query().Get("redirect_uri") != want {
		t.Fatalf("redirect_uri = %q, want %q", page.Query().Get("redirect_uri"), want)
	}
	if resp, body := get(t, cl, page.String()); resp.StatusCode != http.StatusOK {
		t.Fatalf("authorization page = %d %s", resp.StatusCode, body)
	}
	var res struct {
		Redirect string                 `json:"redirect"`
		Event    emulator.ComponentPush `json:"event"`
	}
	env.control(t, "/_emulator/components/"+testCompAppID+"/authorize",
		map[string]string{"authorizer_appid": appID, "pre_auth_code": page.Query().Get("pre_auth_code")}, &res)
	if !res.Event.Acknowledged {
		t.Fatalf("authorized event not acknowledged: %+v", res.Event)
	}
	resp, body = get(t, cl, res.Redirect)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("callback = %d %s, want 302", resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

// TestComponentSQLite runs the whole Open Platform flow on one gateway
// with SQLite.
func TestComponentSQLite(t *testing.T) {
	t.Parallel()
	env := newCompEnv(t, 1, "sqlite://"+filepath.Join(t.TempDir(), "gw.db"))
	env.checkFlow(t)
}

// TestComponentPostgresCluster runs the flow on the first of three
// gateways sharing one PostgreSQL, then checks that the authorizer's
// token is fetched once per lifetime for the three.
func TestComponentPostgresCluster(t *testing.T) {
	t.Parallel()
	env := newCompEnv(t, 3, pgtest.SchemaURL(t))
	env.pushTicket(t)
	if loc := env.authorize(t, 1, emulator.DemoAppID, "/after"); loc != "/after" {
		t.Fatalf("callback through instance 1 redirects to %q, want /after", loc)
	}
	for i, g := range env.gws {
		a, err := g.Stores().Authorizers.Authorizer(t.Context(), testCompAppID, emulator.DemoAppID)
		if err != nil || !a.Authorized {
			t.Fatalf("instance %d: stored authorizer = %+v, %v", i, a, err)
		}
	}
	// Every token in the store has expired (the first came with
	// api_query_auth): 3 x 20 callers make one upstream fetch.
	if _, err := env.emu.Advance(2*time.Hour + time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := env.emu.WaitComponentPushes(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := env.emu.Stats().TokenFetches[emulator.DemoAppID].AuthorizerToken
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	for i, g := range env.gws {
		c, err := g.Component(testCompAppID)
		if err != nil {
			t.Fatal(err)
		}
		for j := range 20 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
				defer cancel()
				var value string
				if j%2 == 0 { // half through the token service, half in Go
					status, v := env.authorizerToken(ctx, t, i, testCompAppID, emulator.DemoAppID)
					if status != http.StatusOK {
						t.Errorf("instance %d: GET /token?component= = %d %s", i, status, v)
						return
					}
					value = v
				} else {
					tok, err := c.AuthorizerTokenSource(emulator.DemoAppID).Token(ctx)
					if err != nil {
						t.Errorf("instance %d: authorizer token: %v", i, err)
						return
					}
					value = tok.Value
				}
				mu.Lock()
				seen[value]++
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if n := env.emu.Stats().TokenFetches[emulator.DemoAppID].AuthorizerToken - before; n != 1 {
		t.Errorf("authorizer_access_token fetches for 3 x 20 callers = %d, want 1", n)
	}
	if len(seen) != 1 {
		t.Errorf("callers got %d different tokens, want 1", len(seen))
	}
	// The menu set through instance 2 with that token.
	env.checkMenu(t, 2)
}

// checkFlow: no ticket yet → authorize says why; tickets pushed (control
// API and the 10-minute schedule) are stored; an account authorizes; its
// menu is set through its token; its messages are answered and logged;
// forged notifies change nothing; the release check passes; the account
// cancels; 12 h without a ticket makes component calls say why.
func (env *compEnv) checkFlow(t *testing.T) {
	ctx := t.Context()
	g := env.gws[0]
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorizeURL := env.urls[0] + "/component/" + testCompAppID + "/authorize?return=/done"

	t.Run("NoTicketYet", func(t *testing.T) {
		resp, body := get(t, cl, authorizeURL)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "no component_verify_ticket newer than 12h for "+testCompAppID) ||
			!strings.Contains(body, "check the authorization event URL") {
			t.Fatalf("/authorize without a ticket = %d %s, want 503 naming the missing ticket", resp.StatusCode, body)
		}
	})
	t.Run("Tickets", func(t *testing.T) {
		env.pushTicket(t)
		if _, err := env.emu.Advance(10*time.Minute + time.Second); err != nil {
			t.Fatal(err)
		}
		if err := env.emu.WaitComponentPushes(ctx); err != nil {
			t.Fatal(err)
		}
		info, _ := env.emu.Component(testCompAppID)
		last := info.Pushes[len(info.Pushes)-1]
		if last.InfoType != emulator.InfoTypeComponentVerifyTicket || !last.Acknowledged || env.storedTicket(t) != last.Ticket {
			t.Fatalf("scheduled ticket push = %+v; stored %q", last, env.storedTicket(t))
		}
	})
	t.Run("MobileLink", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, "GET", authorizeURL, nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone) MicroMessenger/8.0.50")
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || loc.Path != "/wxaopen/safe/bindcomponent" ||
			loc.Query().Get("action") != "bindcomponent" || loc.Query().Get("pre_auth_code") == "" {
			t.Fatalf("/authorize in WeChat's browser = %d %s, want 302 to the mobile authorization page", resp.StatusCode, resp.Header.Get("Location"))
		}
		// The emulator serves the page the link leads to.
		page, body := get(t, cl, loc.String())
		if page.StatusCode != http.StatusOK || page.Header.Get(emulator.ComponentPageErrorHeader) != "" || !strings.Contains(body, `action="bindcomponent_reply"`) {
			t.Errorf("GET %s = %d (error %q), want the authorization page", loc.Path, page.StatusCode, page.Header.Get(emulator.ComponentPageErrorHeader))
		}
	})
	t.Run("OpenRedirectRefused", func(t *testing.T) {
		for _, ret := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"} {
			resp, body := get(t, cl, env.urls[0]+"/component/"+testCompAppID+"/authorize?return="+url.QueryEscape(ret))
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("/authorize?return=%s = %d %s, want 400", ret, resp.StatusCode, body)
			}
		}
		// A callback without the signed cookie is refused before any exchange.
		calls := env.emu.Stats().Count("/cgi-bin/component/api_query_auth", testCompAppID).Calls
		resp, body := get(t, cl, env.urls[0]+"/component/"+testCompAppID+"/callback?auth_code=queryauthcode@@@forged")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("callback without cookie = %d %s, want 400", resp.StatusCode, body)
		}
		if n := env.emu.Stats().Count("/cgi-bin/component/api_query_auth", testCompAppID).Calls; n != calls {
			t.Errorf("api_query_auth calls went from %d to %d on a refused callback", calls, n)
		}
	})
	t.Run("Authorize", func(t *testing.T) {
		if loc := env.authorize(t, 0, emulator.DemoAppID, "/done?x=1"); loc != "/done?x=1" {
			t.Fatalf("callback redirects to %q, want /done?x=1", loc)
		}
		a, err := g.Stores().Authorizers.Authorizer(ctx, testCompAppID, emulator.DemoAppID)
		if err != nil || !a.Authorized || len(a.RefreshToken) == 0 || a.UserName != emulator.DemoOriginalID {
			t.Fatalf("stored authorizer = %+v, %v; want authorized with a refresh token and the original id", a, err)
		}
		if bytes.Contains(a.RefreshToken, []byte("refreshtoken@@@")) {
			t.Error("the refresh token is stored in clear")
		}
		stored, err := g.Stores().Tokens.Get(ctx, token.AuthorizerTokenKey(testCompAppID, emulator.DemoAppID))
		if err != nil {
			t.Fatal(err)
		}
		if status, v := env.authorizerToken(ctx, t, 0, testCompAppID, emulator.DemoAppID); status != http.StatusOK || v != stored.Value {
			t.Errorf("token service for the authorizer = %d, want 200 and the stored token", status)
		}
	})
	t.Run("Menu", func(t *testing.T) { env.checkMenu(t, 0) })
	t.Run("Message", func(t *testing.T) {
		for _, tc := range []struct{ in, want string }{{"hello", "world from the component"}, {"你好 component", "你好 component"}} {
			r, err := env.emu.Push(ctx, emulator.DemoAppID, emulator.PushRequest{User: env.fan, Type: emulator.MsgTypeText, Content: tc.in})
			if err != nil {
				t.Fatal(err)
			}
			if r.Reply == nil || r.Reply.Content != tc.want {
				t.Fatalf("push %q through the component: reply %+v (error %q), want %q", tc.in, r.Reply, r.Error, tc.want)
			}
		}
		if n, err := g.MessageLog().CountMessages(ctx, emulator.DemoAppID); err != nil || n != 2 {
			t.Errorf("message-log rows of the authorizer = %d, %v; want 2", n, err)
		}
	})
	t.Run("ForgedNotify", func(t *testing.T) { env.checkForgedNotify(t) })
	t.Run("ReleaseCheck", func(t *testing.T) {
		var res emulator.ReleaseCheckResult
		env.control(t, "/_emulator/components/"+testCompAppID+"/release-check", map[string]any{"authorizer_appid": testReleaseApp, "timeout": "20s"}, &res)
		if !res.Passed || len(res.Steps) != 4 {
			t.Fatalf("release check = %+v, want passed with 4 steps", res)
		}
		for _, s := range res.Steps {
			if !s.Passed {
				t.Errorf("step %s failed: %s", s.Name, s.Detail)
			}
		}
	})
	t.Run("Unauthorized", func(t *testing.T) {
		var res struct {
			Event emulator.ComponentPush `json:"event"`
		}
		env.control(t, "/_emulator/components/"+testCompAppID+"/unauthorize", map[string]string{"authorizer_appid": emulator.DemoAppID}, &res)
		if !res.Event.Acknowledged {
			t.Fatalf("unauthorized event not acknowledged: %+v", res.Event)
		}
		a, err := g.Stores().Authorizers.Authorizer(ctx, testCompAppID, emulator.DemoAppID)
		if err != nil || a.Authorized || len(a.RefreshToken) != 0 {
			t.Fatalf("stored authorizer after unauthorized = %+v, %v; want kept, not authorized, no refresh token", a, err)
		}
		c, err := g.AuthorizerMPClient(testCompAppID, emulator.DemoAppID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Menu().Get(ctx); !errors.Is(err, openplatform.ErrUnauthorized) {
			t.Errorf("acting for the account after unauthorized = %v, want ErrUnauthorized", err)
		}
		if status, v := env.authorizerToken(ctx, t, 0, testCompAppID, emulator.DemoAppID); status != http.StatusNotFound || v != "61003" {
			t.Errorf("token service for the account after unauthorized = %d %s, want 404 61003", status, v)
		}
		if status, v := env.authorizerToken(ctx, t, 0, "wx9999999999999999", emulator.DemoAppID); status != http.StatusNotFound || v != "40013" {
			t.Errorf("token service for an unknown component = %d %s, want 404 40013", status, v)
		}
	})
	t.Run("TwelveHoursWithoutTicket", func(t *testing.T) {
		empty := ""
		if err := env.emu.SetComponentURLs(testCompAppID, &empty, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := env.emu.Advance(12*time.Hour + time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := env.emu.WaitComponentPushes(ctx); err != nil {
			t.Fatal(err)
		}
		resp, body := get(t, cl, authorizeURL)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "no component_verify_ticket newer than 12h for "+testCompAppID+": check the authorization event URL") {
			t.Fatalf("/authorize 12 h after the last ticket = %d %s, want 503 saying why", resp.StatusCode, body)
		}
		comp, _ := g.Component(testCompAppID)
		if _, err := comp.PreAuthCode(ctx); !errors.Is(err, openplatform.ErrNoTicket) {
			t.Errorf("PreAuthCode 12 h after the last ticket = %v, want ErrNoTicket", err)
		}
	})
}

// checkMenu sets the demo account's menu through instance i with the
// authorizer's token and checks it in the emulator.
func (env *compEnv) checkMenu(t *testing.T, i int) {
	t.Helper()
	c, err := env.gws[i].AuthorizerMPClient(testCompAppID, emulator.DemoAppID)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("第三方 %d", i)
	menu := &mp.Menu{Buttons: []mp.Button{{Type: mp.ButtonTypeClick, Name: name, Key: "COMPONENT"}}}
	if err := c.Menu().Create(t.Context(), menu); err != nil {
		t.Fatalf("menu through the authorizer token: %v", err)
	}
	um, err := env.emu.MenuFor(emulator.DemoAppID, env.fan)
	if err != nil {
		t.Fatal(err)
	}
	if len(um.Buttons) != 1 || um.Buttons[0].Name != name || um.Buttons[0].Key != "COMPONENT" {
		t.Fatalf("the account's menu in the emulator = %+v, want the one button %q", um.Buttons, name)
	}
}

// checkForgedNotify posts notifies that must be refused: a bad signature,
// a ciphertext of another component, and the corpus samples (whose <AppId>
// is another component's) encrypted with the right key. None changes the
// stored ticket or authorizers.
func (env *compEnv) checkForgedNotify(t *testing.T) {
	ctx := t.Context()
	g := env.gws[0]
	ticket := env.storedTicket(t)
	before, err := g.Stores().Authorizers.ListAuthorizers(ctx, testCompAppID)
	if err != nil {
		t.Fatal(err)
	}
	target := env.urls[0] + "/component/" + testCompAppID + "/notify"
	now := env.emu.Now()
	mine := fmt.Appendf(nil, "<xml><AppId><![CDATA[%s]]></AppId><CreateTime>%d</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[ticket@@@forged]]></ComponentVerifyTicket></xml>",
		testCompAppID, now.Unix())
	post := func(name string, r *http.Request) (int, string) {
		r.RequestURI = ""
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return resp.StatusCode, string(readAll(t, resp))
	}
	opts := &webhooktest.RequestOptions{Target: target, Timestamp: now.Unix()}
	if code, body := post("bad signature", webhooktest.NewEncryptedRequest("wrongtoken", testCompAESKey, testCompAppID, mine, webhook.ModeSafe, opts)); code == http.StatusOK {
		t.Errorf("notify with a bad signature = %d %s, want refused", code, body)
	}
	if code, body := post("foreign ciphertext", webhooktest.NewEncryptedRequest(testCompToken, testCompAESKey, "wx9999999999999999", mine, webhook.ModeSafe, opts)); code == http.StatusOK {
		t.Errorf("notify whose ciphertext carries another component's appid = %d %s, want refused", code, body)
	}
	for _, p := range corpus.Glob(t, "messages/component_*.xml") {
		name := filepath.Base(p)
		xml := corpus.ReadFile(t, "messages", name)
		// Authentic envelope, but <AppId> is the corpus's component: not acted on.
		post(name, webhooktest.NewEncryptedRequest(testCompToken, testCompAESKey, testCompAppID, xml, webhook.ModeSafe, opts))
	}
	if got := env.storedTicket(t); got != ticket {
		t.Errorf("stored ticket changed from %q to %q by forged notifies", ticket, got)
	}
	after, err := g.Stores().Authorizers.ListAuthorizers(ctx, testCompAppID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("authorizers %d → %d after forged notifies", len(before), len(after))
	}
	for i := range after {
		if after[i].AppID != before[i].AppID || after[i].Authorized != before[i].Authorized || !bytes.Equal(after[i].RefreshToken, before[i].RefreshToken) {
			t.Errorf("authorizer %s changed by forged notifies", after[i].AppID)
		}
	}
	if !strings.Contains(env.logs[0].String(), "push for another component") {
		t.Error("the foreign <AppId> pushes were not logged as such")
	}
}
