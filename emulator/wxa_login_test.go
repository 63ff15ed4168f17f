package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestJSCode2Session(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	user := mpUser(t, e, mpAppID, 0)
	r := code2session(t, e, mpAppID, mpSecret, wxLogin(t, e, mpAppID, user))
	if r.ErrCode != 0 {
		t.Fatalf("code2session: errcode %d %q", r.ErrCode, r.ErrMsg)
	}
	if diff := cmp.Diff(sessionReply{OpenID: user, UnionID: mpUnionID, SessionKey: r.SessionKey, ErrMsg: "ok"}, r); diff != "" {
		t.Errorf("code2session (-want +got):\n%s", diff)
	}
	if k, err := base64.StdEncoding.DecodeString(r.SessionKey); err != nil || len(k) != 16 {
		t.Errorf("session_key %q is not 16 bytes in base64", r.SessionKey)
	}
	// A user without unionid gets none; an empty openid logs in the first user.
	other := mpUser(t, e, mpAppID, 2)
	if r := code2session(t, e, mpAppID, mpSecret, wxLogin(t, e, mpAppID, other)); r.OpenID != other || r.UnionID != "" {
		t.Errorf("user without unionid: %+v", r)
	}
	if r := code2session(t, e, mpAppID, mpSecret, wxLogin(t, e, mpAppID, "")); r.OpenID != user {
		t.Errorf("wx.login without openid logged in %q, want the first user %q", r.OpenID, user)
	}
	if n := e.Stats().Count("/sns/jscode2session", mpAppID); n != (CallCount{Calls: 3}) {
		t.Errorf("stats = %+v, want 3 calls", n)
	}
}

func TestJSCode2SessionErrors(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	code := wxLogin(t, e, mpAppID, "")
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return "/sns/jscode2session?" + v.Encode()
	}
	tests := []struct {
		name   string
		target string
		want   int
	}{
		{"appid missing", q("secret", mpSecret, "js_code", code, "grant_type", "authorization_code"), 41002},
		{"secret missing", q("appid", mpAppID, "js_code", code, "grant_type", "authorization_code"), 41004},
		{"unknown appid", code2sessionURL("wx9999999999999999", mpSecret, code), 40013},
		{"official account", code2sessionURL(testAppID, testSecret, code), 40013},
		{"wrong secret", code2sessionURL(mpAppID, mp2Secret, code), 40125},
		{"code missing", code2sessionURL(mpAppID, mpSecret, ""), 41008},
		{"grant_type", q("appid", mpAppID, "secret", mpSecret, "js_code", code, "grant_type", "client_credential"), 40002},
		{"unknown code", code2sessionURL(mpAppID, mpSecret, "0abcdefghijklmnopqrstuvwxyz01234"), 40029},
		{"code of another Mini Program", code2sessionURL(mp2AppID, mp2Secret, code), 40029},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.name, call(t, e, "GET", tt.target, ""), tt.want)
		})
	}
	// None of the failures spent the code.
	if r := code2session(t, e, mpAppID, mpSecret, code); r.ErrCode != 0 {
		t.Errorf("code after failed calls: errcode %d", r.ErrCode)
	}
}

func TestJSCode2SessionSingleUseAndExpiry(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	code := wxLogin(t, e, mpAppID, "")
	if r := code2session(t, e, mpAppID, mpSecret, code); r.ErrCode != 0 {
		t.Fatalf("first exchange: %d", r.ErrCode)
	}
	wantErr(t, "second exchange", call(t, e, "GET", code2sessionURL(mpAppID, mpSecret, code), ""), 40163)

	late := wxLogin(t, e, mpAppID, "")
	onTime := wxLogin(t, e, mpAppID, "")
	advance(t, e, WXLoginCodeLifetime-time.Second)
	if r := code2session(t, e, mpAppID, mpSecret, onTime); r.ErrCode != 0 {
		t.Errorf("exchange 1 s before expiry: errcode %d", r.ErrCode)
	}
	advance(t, e, time.Second)
	wantErr(t, "exchange after 5 minutes", call(t, e, "GET", code2sessionURL(mpAppID, mpSecret, late), ""), 40029)
}

func TestJSCode2SessionMinuteQuota(t *testing.T) {
	t.Parallel()
	// t0 is on a minute boundary: the 101 calls below are in one minute.
	e := newWXATest(t, nil)
	user, other := mpUser(t, e, mpAppID, 0), mpUser(t, e, mpAppID, 1)
	for i := range 100 {
		if r := code2session(t, e, mpAppID, mpSecret, wxLogin(t, e, mpAppID, user)); r.ErrCode != 0 {
			t.Fatalf("call %d: errcode %d", i+1, r.ErrCode)
		}
	}
	code := wxLogin(t, e, mpAppID, user)
	wantErr(t, "101st call in a minute", call(t, e, "GET", code2sessionURL(mpAppID, mpSecret, code), ""), 45011)
	if r := code2session(t, e, mpAppID, mpSecret, wxLogin(t, e, mpAppID, other)); r.ErrCode != 0 {
		t.Errorf("another user in the same minute: errcode %d", r.ErrCode)
	}
	advance(t, e, time.Minute)
	if r := code2session(t, e, mpAppID, mpSecret, code); r.ErrCode != 0 {
		t.Errorf("the refused code, next minute: errcode %d (45011 must not spend it)", r.ErrCode)
	}
}

// hmacHex is hex(hmac_sha256(key, msg)), written here without the emulator.
func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestSessionSignatureDocVector(t *testing.T) {
	t.Parallel()
	// The example of the "user login state signature" page.
	const want = "654571f79995b2ce1e149e53c0a33dc39c0a74090db514261454e8dbe432aa0b"
	if got := SessionSignature("o0q0otL8aEzpcZL/FT9WsQ==", `{"foo":"bar"}`); got != want {
		t.Errorf("SessionSignature = %s, want %s", got, want)
	}
}

func TestCheckSession(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	user, idle := mpUser(t, e, mpAppID, 0), mpUser(t, e, mpAppID, 2)
	first := login(t, e, mpAppID, mpSecret, user)
	tok := appToken(t, e, mpAppID, mpSecret)
	check := func(tok, openID, sig, method string) apiReply {
		return call(t, e, "GET", "/wxa/checksession?"+url.Values{
			"access_token": {tok}, "openid": {openID}, "signature": {sig}, "sig_method": {method},
		}.Encode(), "")
	}
	if r := check(tok, user, hmacHex(first, ""), "hmac_sha256"); r.ErrCode != 0 {
		t.Fatalf("checksession with the current session_key: errcode %d %q", r.ErrCode, r.ErrMsg)
	}
	// A new wx.login replaces the session_key.
	second := login(t, e, mpAppID, mpSecret, user)
	if second == first {
		t.Fatalf("wx.login did not change the session_key")
	}
	tests := []struct {
		name string
		r    apiReply
		want int
	}{
		{"current key", check(tok, user, hmacHex(second, ""), "hmac_sha256"), 0},
		{"replaced key", check(tok, user, hmacHex(first, ""), "hmac_sha256"), 87009},
		{"signature of other data", check(tok, user, hmacHex(second, "x"), "hmac_sha256"), 87009},
		{"user with no session", check(tok, idle, hmacHex(second, ""), "hmac_sha256"), 87009},
		{"sig_method", check(tok, user, hmacHex(second, ""), "md5"), 40097},
		{"openid missing", check(tok, "", hmacHex(second, ""), "hmac_sha256"), 41009},
		{"token missing", check("", user, hmacHex(second, ""), "hmac_sha256"), 41001},
		{"official account token", check(appToken(t, e, testAppID, testSecret), user, hmacHex(second, ""), "hmac_sha256"), 48001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == 0 {
				if tt.r.ErrCode != 0 || tt.r.ErrMsg != "ok" {
					t.Errorf("errcode %d %q, want 0 ok", tt.r.ErrCode, tt.r.ErrMsg)
				}
				return
			}
			wantErr(t, tt.name, tt.r, tt.want)
		})
	}
}

func TestWXLoginControlErrors(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	tests := []struct {
		name, path, body string
		want             int
	}{
		{"unknown app", "/_emulator/apps/wxnope/wx.login", `{}`, 404},
		{"unknown user", "/_emulator/apps/" + mpAppID + "/wx.login", `{"openid":"oNobody"}`, 404},
		{"official account", "/_emulator/apps/" + testAppID + "/wx.login", `{}`, 409},
		{"unknown field", "/_emulator/apps/" + mpAppID + "/wx.login", `{"user":"x"}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out struct {
				Error string `json:"error"`
			}
			if st := serveJSON(t, e, "POST", tt.path, tt.body, &out); st != tt.want || out.Error == "" {
				t.Errorf("POST %s = %d %q, want %d with an error", tt.path, st, out.Error, tt.want)
			}
		})
	}
}
