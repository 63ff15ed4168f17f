package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// t0 is the emulator time tests start at: 2025-03-01 10:00 China time.
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, beijing)

const (
	testAppID  = "wx1111111111111111"
	testSecret = "11111111111111111111111111111111"
	testToken  = "testtoken123"
	testAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	otherAppID = "wx2222222222222222"
)

// testConfig returns a config with two apps and three users in the first.
func testConfig() Config {
	return Config{
		Apps: []AppConfig{
			{
				AppID: testAppID, Secret: testSecret, Token: testToken, EncodingAESKey: testAESKey,
				Mode: ModeSafe, Users: []UserConfig{{Nickname: "a"}, {Nickname: "b"}, {Nickname: "c"}},
			},
			{AppID: otherAppID, Secret: "22222222222222222222222222222222", Token: "othertoken"},
		},
	}
}

// newTest returns an emulator on a fixed clock at t0.
func newTest(t *testing.T, mutate func(*Config)) *Emulator {
	t.Helper()
	cfg := testConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	e, err := New(cfg, WithClock(FixedClock(t0)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// apiReply is a decoded platform answer.
type apiReply struct {
	Status      int
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	Ticket      string `json:"ticket"`
}

// call serves one request in-process and decodes the JSON answer.
func call(t *testing.T, e *Emulator, method, target, body string) apiReply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, target, rd)
	req.RemoteAddr = "127.0.0.1:5555"
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	var r apiReply
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, target, w.Body.String())
	}
	r.Status = w.Code
	return r
}

var ridRE = regexp.MustCompile(` rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

// wantErr fails unless r carries errcode code with a platform-shaped errmsg.
func wantErr(t *testing.T, what string, r apiReply, code int) {
	t.Helper()
	if r.ErrCode != code {
		t.Fatalf("%s: errcode = %d (%q), want %d", what, r.ErrCode, r.ErrMsg, code)
	}
	if !ridRE.MatchString(r.ErrMsg) {
		t.Errorf("%s: errmsg %q lacks the rid suffix", what, r.ErrMsg)
	}
}

func tokenURL(appID, secret string) string {
	return "/cgi-bin/token?" + url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {secret}}.Encode()
}

// fetchToken gets a /cgi-bin/token token for the test app.
func fetchToken(t *testing.T, e *Emulator) string {
	t.Helper()
	r := call(t, e, "GET", tokenURL(testAppID, testSecret), "")
	if r.ErrCode != 0 || r.AccessToken == "" {
		t.Fatalf("token: errcode %d %q", r.ErrCode, r.ErrMsg)
	}
	return r.AccessToken
}

func stableBody(appID, secret string, force bool) string {
	b, _ := json.Marshal(stableTokenRequest{GrantType: "client_credential", AppID: appID, Secret: secret, ForceRefresh: force})
	return string(b)
}

func fetchStable(t *testing.T, e *Emulator, force bool) apiReply {
	t.Helper()
	r := call(t, e, "POST", "/cgi-bin/stable_token", stableBody(testAppID, testSecret, force))
	if r.ErrCode != 0 || r.AccessToken == "" {
		t.Fatalf("stable_token(force=%v): errcode %d %q", force, r.ErrCode, r.ErrMsg)
	}
	return r
}

// useToken calls getticket with tok and returns the errcode.
func useToken(t *testing.T, e *Emulator, tok string) int {
	t.Helper()
	return call(t, e, "GET", "/cgi-bin/ticket/getticket?type=jsapi&access_token="+url.QueryEscape(tok), "").ErrCode
}

func advance(t *testing.T, e *Emulator, d time.Duration) {
	t.Helper()
	if _, err := e.Advance(d); err != nil {
		t.Fatal(err)
	}
}

// handlerFunc adapts a function to http.Handler in tests.
type handlerFunc func(http.ResponseWriter, *http.Request)

func (f handlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) { f(w, r) }
