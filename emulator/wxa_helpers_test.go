package emulator

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Mini Program apps of the wxa tests.
const (
	mpAppID   = "wx3333333333333333"
	mpSecret  = "33333333333333333333333333333333"
	mpToken   = "mptoken123"
	mp2AppID  = "wx4444444444444444"
	mp2Secret = "44444444444444444444444444444444"
	mpUnionID = "oUnion1234567890123456789012"
)

// newWXATest returns an emulator at t0 hosting the apps of testConfig plus
// two Mini Programs: mpAppID (users "小明" with a unionid and a configured
// phone, "Bob" in the US, and "c") and mp2AppID (one user).
func newWXATest(t *testing.T, mutate func(*Config)) *Emulator {
	t.Helper()
	return newTest(t, func(c *Config) {
		c.Apps = append(c.Apps,
			AppConfig{
				AppID: mpAppID, Type: AppTypeMiniProgram, Secret: mpSecret, Token: mpToken, Name: "小程序",
				Users: []UserConfig{
					{Nickname: "小明", Sex: 1, City: "Shenzhen", Province: "Guangdong", Country: "China", Language: "zh_CN",
						UnionID: mpUnionID, PhoneNumber: "13800138000", HeadImgURL: "http://example.com/a.png"},
					{Nickname: "Bob", PhoneNumber: "6505550100", CountryCode: "1"},
					{Nickname: "c"},
				},
			},
			AppConfig{AppID: mp2AppID, Type: AppTypeMiniProgram, Secret: mp2Secret, Token: mpToken, Users: []UserConfig{{Nickname: "d"}}},
		)
		if mutate != nil {
			mutate(c)
		}
	})
}

// mpUser returns the openid of the i-th user of appID.
func mpUser(t *testing.T, e *Emulator, appID string, i int) string {
	t.Helper()
	for _, a := range e.Apps() {
		if a.AppID == appID {
			return a.Users[i].OpenID
		}
	}
	t.Fatalf("no app %s", appID)
	return ""
}

// serveRaw runs one request in-process and returns the status and body.
func serveRaw(t *testing.T, e *Emulator, method, target, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, target, rd)
	req.RemoteAddr = "127.0.0.1:5555"
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

// serveJSON runs one request and decodes the JSON answer into v.
func serveJSON(t *testing.T, e *Emulator, method, target, body string, v any) int {
	t.Helper()
	status, b := serveRaw(t, e, method, target, body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, target, b)
	}
	return status
}

// wxLogin simulates wx.login through the control API and returns the code.
func wxLogin(t *testing.T, e *Emulator, appID, openID string) string {
	t.Helper()
	var out struct {
		Code  string `json:"code"`
		Error string `json:"error"`
	}
	if st := serveJSON(t, e, "POST", "/_emulator/apps/"+appID+"/wx.login", `{"openid":"`+openID+`"}`, &out); st != 200 || out.Code == "" {
		t.Fatalf("wx.login: %d %q", st, out.Error)
	}
	return out.Code
}

// sessionReply is the answer of sns/jscode2session.
type sessionReply struct {
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
	SessionKey string `json:"session_key"`
	OpenID     string `json:"openid"`
	UnionID    string `json:"unionid"`
}

func code2sessionURL(appID, secret, code string) string {
	return "/sns/jscode2session?" + url.Values{
		"appid": {appID}, "secret": {secret}, "js_code": {code}, "grant_type": {"authorization_code"},
	}.Encode()
}

// code2session exchanges code like a developer's server does.
func code2session(t *testing.T, e *Emulator, appID, secret, code string) sessionReply {
	t.Helper()
	var r sessionReply
	serveJSON(t, e, "GET", code2sessionURL(appID, secret, code), "", &r)
	return r
}

// login runs wx.login and code2session and returns the session_key.
func login(t *testing.T, e *Emulator, appID, secret, openID string) string {
	t.Helper()
	r := code2session(t, e, appID, secret, wxLogin(t, e, appID, openID))
	if r.ErrCode != 0 || r.SessionKey == "" {
		t.Fatalf("code2session: %d %q", r.ErrCode, r.ErrMsg)
	}
	return r.SessionKey
}

// appToken gets a cgi-bin/token access_token of appID.
func appToken(t *testing.T, e *Emulator, appID, secret string) string {
	t.Helper()
	r := call(t, e, "GET", tokenURL(appID, secret), "")
	if r.ErrCode != 0 || r.AccessToken == "" {
		t.Fatalf("token of %s: %d %q", appID, r.ErrCode, r.ErrMsg)
	}
	return r.AccessToken
}
