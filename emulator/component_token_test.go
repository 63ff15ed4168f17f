package emulator

import (
	"encoding/json"
	"net/url"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// waitPushes waits for the scheduled ticket pushes to finish.
func waitPushes(t *testing.T, e *Emulator) {
	t.Helper()
	if err := e.WaitComponentPushes(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func componentTokenBody(appID, secret, ticket string) string {
	b, _ := json.Marshal(map[string]string{"component_appid": appID, "component_appsecret": secret, "component_verify_ticket": ticket})
	return string(b)
}

func TestComponentTicketSchedule(t *testing.T) {
	t.Parallel()
	env := newComponentEnv(t, nil)
	e, p := env.e, env.p
	tickets := func() []string {
		var out []string
		for _, f := range p.eventsOf(InfoTypeComponentVerifyTicket) {
			out = append(out, f["ComponentVerifyTicket"])
		}
		return out
	}
	advance(t, e, 9*time.Minute)
	waitPushes(t, e)
	if n := len(tickets()); n != 0 {
		t.Fatalf("%d tickets after 9 minutes, want 0", n)
	}
	advance(t, e, time.Minute)
	waitPushes(t, e)
	if n := len(tickets()); n != 1 {
		t.Fatalf("%d tickets after 10 minutes, want 1", n)
	}
	first := p.eventsOf(InfoTypeComponentVerifyTicket)[0]
	if first["AppId"] != compAppID || first["CreateTime"] != strconv.FormatInt(t0.Add(10*time.Minute).Unix(), 10) {
		t.Errorf("ticket push = %v", first)
	}
	advance(t, e, 10*time.Minute)
	waitPushes(t, e)
	got := tickets()
	if len(got) != 2 || got[0] == got[1] {
		t.Fatalf("tickets after 20 minutes = %q, want 2 different", got)
	}
	info, _ := e.Component(compAppID)
	if info.Ticket != got[1] || info.NextTicketAt == nil || !info.NextTicketAt.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("ComponentInfo ticket %q next %v", info.Ticket, info.NextTicketAt)
	}
	if c := e.Stats().Components[compAppID]; c.TicketPushes != 2 || c.Acknowledged != 2 || c.Deliveries != 2 {
		t.Errorf("stats = %+v", c)
	}
	// The second platform has no push_url: its schedule pushes nothing.
	if c := e.Stats().Components[comp2AppID]; c.TicketPushes != 0 {
		t.Errorf("platform without push_url: %+v", c)
	}

	// Both tickets work while younger than 12 hours.
	for _, tk := range got {
		if r := call(t, e, "POST", "/cgi-bin/component/api_component_token", componentTokenBody(compAppID, compSecret, tk)); r.ErrCode != 0 {
			t.Errorf("ticket %s: errcode %d", tk, r.ErrCode)
		}
	}
	// The server stops receiving tickets; 12 hours after its last one it
	// cannot get a token with it.
	last := got[1]
	none := ""
	if err := e.SetComponentURLs(compAppID, &none, nil); err != nil {
		t.Fatal(err)
	}
	advance(t, e, 12*time.Hour-time.Second)
	waitPushes(t, e)
	if r := call(t, e, "POST", "/cgi-bin/component/api_component_token", componentTokenBody(compAppID, compSecret, last)); r.ErrCode != 0 {
		t.Errorf("ticket at 12 h minus 1 s: errcode %d", r.ErrCode)
	}
	advance(t, e, time.Second)
	wantErr(t, "ticket after 12 h", call(t, e, "POST", "/cgi-bin/component/api_component_token", componentTokenBody(compAppID, compSecret, last)), 61005)
	if n := len(tickets()); n != 2 {
		t.Errorf("%d tickets received, want 2 (the push URL was cleared)", n)
	}
	// A clock jump pushes one ticket, not one per interval missed.
	push := env.srv.URL + "/notify"
	if err := e.SetComponentURLs(compAppID, &push, nil); err != nil {
		t.Fatal(err)
	}
	advance(t, e, 3*time.Hour)
	waitPushes(t, e)
	if n := len(tickets()); n != 3 {
		t.Errorf("%d tickets after a 3-hour jump, want 3 (one more)", n)
	}
}

func TestComponentTokenErrors(t *testing.T) {
	t.Parallel()
	env := newComponentEnv(t, nil)
	e := env.e
	ticket := env.pushTicketNow(t)
	const path = "/cgi-bin/component/api_component_token"
	tests := []struct {
		name, method, body string
		want               int
	}{
		{"GET", "GET", "", 43002},
		{"empty body", "POST", "", 44002},
		{"not JSON", "POST", "component_appid=x", 47001},
		{"component_appid missing", "POST", componentTokenBody("", compSecret, ticket), 41002},
		{"unknown component", "POST", componentTokenBody("wx9999999999999999", compSecret, ticket), 61011},
		{"secret missing", "POST", componentTokenBody(compAppID, "", ticket), 41004},
		{"wrong secret", "POST", componentTokenBody(compAppID, "wrong", ticket), 40125},
		{"ticket missing", "POST", componentTokenBody(compAppID, compSecret, ""), 61006},
		{"unknown ticket", "POST", componentTokenBody(compAppID, compSecret, "ticket@@@nope"), 61006},
		{"another platform's ticket", "POST", componentTokenBody(comp2AppID, compSecret, ticket), 61006},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.name, call(t, e, tt.method, path, tt.body), tt.want)
		})
	}
	// Shape, lifetime and the overlap of the token before.
	status, body := serveRaw(t, e, "POST", path, componentTokenBody(compAppID, compSecret, ticket))
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	sameShape(t, "component_api_component_token.json", body)
	var r1 componentTokenReply
	_ = json.Unmarshal(body, &r1)
	if r1.ExpiresIn != 7200 || !wellFormedToken(r1.ComponentAccessToken) {
		t.Errorf("token = %+v", r1)
	}
	preAuth := func(tok string) apiReply {
		return call(t, e, "POST", "/cgi-bin/component/api_create_preauthcode?component_access_token="+url.QueryEscape(tok), `{"component_appid":"`+compAppID+`"}`)
	}
	var r2 componentTokenReply
	serveJSON(t, e, "POST", path, componentTokenBody(compAppID, compSecret, ticket), &r2)
	if r := preAuth(r1.ComponentAccessToken); r.ErrCode != 0 {
		t.Errorf("the token before, within 5 minutes: errcode %d", r.ErrCode)
	}
	advance(t, e, 5*time.Minute)
	wantErr(t, "the token before, after 5 minutes", preAuth(r1.ComponentAccessToken), 40001)
	if r := preAuth(r2.ComponentAccessToken); r.ErrCode != 0 {
		t.Errorf("the current token: errcode %d", r.ErrCode)
	}
	advance(t, e, 2*time.Hour)
	wantErr(t, "expired token", preAuth(r2.ComponentAccessToken), 42001)
	if got := e.Stats().TokenFetches[compAppID]; got.ComponentToken != 2 || got.Total != 2 {
		t.Errorf("token fetches = %+v, want 2 component tokens", got)
	}
}

func TestComponentCallErrors(t *testing.T) {
	t.Parallel()
	env := newComponentEnv(t, nil)
	e := env.e
	env.pushTicketNow(t)
	tok := env.p.componentToken()
	appTok := appToken(t, e, testAppID, testSecret)
	const pre = "/cgi-bin/component/api_create_preauthcode?"
	tests := []struct {
		name, target, body string
		want               int
	}{
		{"token missing", pre, `{"component_appid":"` + compAppID + `"}`, 41001},
		{"malformed token", pre + "component_access_token=abc", `{"component_appid":"` + compAppID + `"}`, 40014},
		{"an app's access_token", pre + "component_access_token=" + url.QueryEscape(appTok), `{"component_appid":"` + compAppID + `"}`, 40001},
		{"component_appid missing", pre + "component_access_token=" + url.QueryEscape(tok), `{}`, 41002},
		{"another platform", pre + "component_access_token=" + url.QueryEscape(tok), `{"component_appid":"` + comp2AppID + `"}`, 61011},
		{"empty body", pre + "component_access_token=" + url.QueryEscape(tok), ``, 44002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.name, call(t, e, "POST", tt.target, tt.body), tt.want)
		})
	}
	// The newer documentation's access_token parameter works too.
	if r := call(t, e, "POST", pre+"access_token="+url.QueryEscape(tok), `{"component_appid":"`+compAppID+`"}`); r.ErrCode != 0 {
		t.Errorf("access_token parameter: errcode %d", r.ErrCode)
	}
	// A component token is not an access_token of the apps.
	wantErr(t, "component token on an app API", call(t, e, "GET", "/cgi-bin/menu/get?access_token="+url.QueryEscape(tok), ""), 40001)
	// Calls with the platform's token count for it: three refused above, one served.
	if diff := cmp.Diff(CallCount{Calls: 4, Errors: 3}, e.Stats().Count("/cgi-bin/component/api_create_preauthcode", compAppID)); diff != "" {
		t.Errorf("stats of the platform's calls (-want +got):\n%s", diff)
	}
}

// TestTicketScheduleOnWallClock runs the schedule on a clock that moves by
// itself (in a synctest bubble), and Close stops it.
func TestTicketScheduleOnWallClock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Components = []ComponentConfig{{AppID: compAppID, Secret: compSecret, Token: compToken, EncodingAESKey: compAESKey}}
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		next := func() time.Time {
			info, _ := e.Component(compAppID)
			return *info.NextTicketAt
		}
		time.Sleep(25 * time.Minute)
		synctest.Wait()
		if got, want := next(), start.Add(30*time.Minute); !got.Equal(want) {
			t.Errorf("next ticket at %v, want %v (every 10 minutes)", got.Sub(start), want.Sub(start))
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := next(); !got.Equal(start.Add(30 * time.Minute)) {
			t.Errorf("the schedule went on after Close: next at %v", got.Sub(start))
		}
	})
}
