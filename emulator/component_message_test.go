package emulator

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestComponentMessagesAndUnauthorize(t *testing.T) {
	t.Parallel()
	// The account's own server, in plain mode: it must see nothing while
	// the account is authorized.
	var own atomic.Int32
	ownSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		own.Add(1)
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(ownSrv.Close)
	env := newComponentEnv(t, func(c *Config) {
		c.Apps[0].Mode = ModePlain
		c.Apps[0].PushURL = ownSrv.URL + "/wx"
	})
	e, p := env.e, env.p
	p.reply = func(_ *platform, _ string, m map[string]string) string { return textReplyTo(m, "echo: "+m["Content"]) }
	env.pushTicketNow(t)
	res := env.authorizeViaControl(t, testAppID)
	tok := p.componentToken()
	qa := p.queryAuth(tok, res.AuthCode).AuthorizationInfo
	user := e.Apps()[0].Users[0].OpenID

	r, err := e.Push(t.Context(), testAppID, PushRequest{User: user, Content: compFanText})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Reply == nil || r.Reply.Content != "echo: "+compFanText || !r.Reply.Encrypted {
		t.Fatalf("push to an authorized account: %+v", r)
	}
	_, msgs := p.received()
	if len(msgs) != 1 {
		t.Fatalf("%d messages at the message URL, want 1", len(msgs))
	}
	m := msgs[0]
	if m.AppID != testAppID || m.Fields["FromUserName"] != user || m.Fields["Content"] != compFanText ||
		m.Fields["ToUserName"] != e.Apps()[0].OriginalID || m.Query.Get("encrypt_type") != "aes" {
		t.Errorf("message = %+v", m)
	}
	if n := own.Load(); n != 0 {
		t.Errorf("the account's own server got %d pushes while authorized", n)
	}

	// A reply encrypted for the account's AppID instead of the platform's is refused.
	p.mu.Lock()
	p.encrypt = false
	p.reply = func(_ *platform, _ string, m map[string]string) string {
		return envelopeWith(t, compAESKey, testAppID, compToken, textReplyTo(m, "wrong"))
	}
	p.mu.Unlock()
	r, _ = e.Push(t.Context(), testAppID, PushRequest{User: user, Content: "again"})
	if r.OK() || !strings.Contains(r.Error, "AppID inside the ciphertext") || r.UserSees != ServiceUnavailableText {
		t.Errorf("reply with the account's AppID: %+v", r)
	}

	// Unauthorize.
	var out struct {
		Event ComponentPush `json:"event"`
	}
	if st := serveJSON(t, e, "POST", "/_emulator/components/"+compAppID+"/unauthorize", `{"authorizer_appid":"`+testAppID+`"}`, &out); st != 200 ||
		out.Event.InfoType != InfoTypeUnauthorized || !out.Event.Acknowledged {
		t.Fatalf("unauthorize: %d %+v", st, out)
	}
	evs := p.eventsOf(InfoTypeUnauthorized)
	if len(evs) != 1 || evs[0]["AuthorizerAppid"] != testAppID || evs[0]["AppId"] != compAppID {
		t.Errorf("unauthorized events = %v", evs)
	}
	wantErr(t, "authorizer token after unauthorize", call(t, e, "GET", "/cgi-bin/menu/get?access_token="+url.QueryEscape(qa.AuthorizerAccessToken), ""), 40001)
	wantErr(t, "refresh token after unauthorize", call(t, e, "POST", "/cgi-bin/component/api_authorizer_token?component_access_token="+url.QueryEscape(tok),
		fmt.Sprintf(`{"component_appid":%q,"authorizer_appid":%q,"authorizer_refresh_token":%q}`, compAppID, testAppID, qa.AuthorizerRefreshToken)), 61023)
	wantErr(t, "authorization code after unauthorize", call(t, e, "POST", "/cgi-bin/component/api_query_auth?component_access_token="+url.QueryEscape(tok),
		`{"component_appid":"`+compAppID+`","authorization_code":"`+res.AuthCode+`"}`), 61009)
	// Messages go back to the account's own server.
	if r, err := e.Push(t.Context(), testAppID, PushRequest{User: user, Content: "back home"}); err != nil || !r.OK() {
		t.Errorf("push after unauthorize: %v %+v", err, r)
	}
	if n := own.Load(); n != 1 {
		t.Errorf("the account's own server got %d pushes after unauthorize, want 1", n)
	}
	if _, msgs := p.received(); len(msgs) != 2 {
		t.Errorf("the platform got %d messages, want 2 (none after unauthorize)", len(msgs))
	}
	if st, _ := serveRaw(t, e, "POST", "/_emulator/components/"+compAppID+"/unauthorize", `{"authorizer_appid":"`+testAppID+`"}`); st != 409 {
		t.Errorf("unauthorize twice: %d, want 409", st)
	}
	info, _ := e.Component(compAppID)
	if len(info.Authorizers) != 0 {
		t.Errorf("authorizers after unauthorize = %+v", info.Authorizers)
	}
}

func TestComponentControlReads(t *testing.T) {
	t.Parallel()
	env := newComponentEnv(t, nil)
	e := env.e
	var list struct {
		Components []ComponentInfo `json:"components"`
	}
	serveJSON(t, e, "GET", "/_emulator/components", "", &list)
	if len(list.Components) != 2 || list.Components[0].AppID != compAppID || list.Components[0].Name != compName ||
		list.Components[1].Name != "第三方平台 "+comp2AppID {
		t.Errorf("components = %+v", list.Components)
	}
	var info ComponentInfo
	if st := serveJSON(t, e, "PATCH", "/_emulator/components/"+comp2AppID, `{"push_url":"http://x.example/notify"}`, &info); st != 200 ||
		info.PushURL != "http://x.example/notify" || info.MessageURL != "" {
		t.Errorf("PATCH: %d %+v", st, info)
	}
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"unknown platform", "GET", "/_emulator/components/wxnope", "", 404},
		{"bad push_url", "PATCH", "/_emulator/components/" + compAppID, `{"push_url":"ftp://x"}`, 400},
		{"unauthorize an account that did not authorize", "POST", "/_emulator/components/" + compAppID + "/unauthorize", `{"authorizer_appid":"` + testAppID + `"}`, 409},
		{"release check of an unknown account", "POST", "/_emulator/components/" + compAppID + "/release-check", `{"authorizer_appid":"wxnope"}`, 404},
		{"release check of an unknown platform", "POST", "/_emulator/components/wxnope/release-check", `{"authorizer_appid":"` + testAppID + `"}`, 404},
		{"release check without message_url", "POST", "/_emulator/components/" + comp2AppID + "/release-check", `{"authorizer_appid":"` + testAppID + `"}`, 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st, b := serveRaw(t, e, tt.method, tt.path, tt.body); st != tt.want || !strings.Contains(string(b), `"error"`) {
				t.Errorf("%s %s = %d %s, want %d", tt.method, tt.path, st, b, tt.want)
			}
		})
	}
	serveJSON(t, e, "PATCH", "/_emulator/components/"+comp2AppID, `{"push_url":""}`, &info)
	if st, _ := serveRaw(t, e, "POST", "/_emulator/components/"+comp2AppID+"/ticket", ""); st != 409 {
		t.Errorf("ticket without push_url: %d, want 409", st)
	}
}
