package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/miniprogram"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/sqlite"
)

// The Mini Program tests run a gateway with the demo Official Account, two
// Mini Programs and the demo merchant (which takes the first Mini
// Program's payments) in front of the emulator, and play the Mini Program
// through the emulator's control API: wx.login, wx.getUserInfo and the
// getPhoneNumber button.

const (
	testMiniAppID    = "wx5a1b2c3d4e5f6a7b"
	testMiniSecret   = "5a1b2c3d4e5f6a7b5a1b2c3d4e5f6a7b"
	testOtherMiniID  = "wx7b6a5f4e3d2c1b0a"
	testOtherSecret  = "7b6a5f4e3d2c1b0a7b6a5f4e3d2c1b0a"
	testMiniUnionID  = "oUnion1Qy6Fh0bK7Xc2Lp9Tn3Rs4A"
	testMiniPhone    = "13800138000"
	testMiniNickname = "小程序张三"
)

// wxaEnv is a payEnv with the Mini Programs, and a record of every answer
// the gateway gave (to look for session keys in).
type wxaEnv struct {
	*payEnv
	users []string // the first Mini Program's users (openids)

	mu     sync.Mutex
	bodies []string
}

// more, when given, edit the gateway's configuration after the Mini
// Programs are added.
func newWXAEnv(t *testing.T, storeKind string, more ...func(*Config)) *wxaEnv {
	t.Helper()
	mini := func(appID, secret, token string) emulator.AppConfig {
		return emulator.AppConfig{AppID: appID, Type: emulator.AppTypeMiniProgram, Secret: secret, Token: token,
			Name: "wxkit 小程序", Users: []emulator.UserConfig{
				{Nickname: testMiniNickname, UnionID: testMiniUnionID, Sex: 1, City: "深圳", Province: "广东", Country: "中国",
					Language: "zh_CN", HeadImgURL: "https://thirdwx.qlogo.cn/mmopen/vi_32/wxkit/132", PhoneNumber: testMiniPhone},
				{Nickname: "Bob", Language: "en"},
				{Nickname: "Carol", Language: "en"},
			}}
	}
	p := newPayEnv(t, payEnvOptions{version: PayV3, store: storeKind,
		editEmulator: func(ecfg *emulator.Config) {
			ecfg.Apps = append(ecfg.Apps, mini(testMiniAppID, testMiniSecret, "miniapptoken"), mini(testOtherMiniID, testOtherSecret, "otherminitoken"))
			ecfg.Merchants[0].AppIDs = append(ecfg.Merchants[0].AppIDs, testMiniAppID)
		},
		editConfig: func(cfg *Config) {
			cfg.Apps = append(cfg.Apps, AppConfig{AppID: testMiniAppID, Type: AppTypeMiniProgram, Secret: testMiniSecret},
				AppConfig{AppID: testOtherMiniID, Type: AppTypeMiniProgram, Secret: testOtherSecret})
			cfg.Pay.Merchants[0].AppIDs = append(cfg.Pay.Merchants[0].AppIDs, testMiniAppID)
			for _, edit := range more {
				edit(cfg)
			}
		}})
	e := &wxaEnv{payEnv: p}
	for _, a := range p.emu.Apps() {
		if a.AppID == testMiniAppID {
			for _, u := range a.Users {
				e.users = append(e.users, u.OpenID)
			}
		}
	}
	if len(e.users) != 3 {
		t.Fatalf("the emulator's Mini Program has users %v, want 3", e.users)
	}
	return e
}

// control calls the emulator's control API for Mini Program appID as
// openID (wx.login, wx.getUserInfo, getPhoneNumber) and decodes its answer
// into out.
func (e *wxaEnv) control(t *testing.T, appID, api, openID string, out any) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"openid": openID})
	resp, err := http.Post(e.emu.URL+"/_emulator/apps/"+appID+"/"+api, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("control %s = %d %s", api, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("control %s: %v in %s", api, err, body)
	}
}

// code returns a fresh code of the control API's wx.login or
// getPhoneNumber.
func (e *wxaEnv) code(t *testing.T, appID, api, openID string) string {
	t.Helper()
	var res struct {
		Code string `json:"code"`
	}
	e.control(t, appID, api, openID, &res)
	if res.Code == "" {
		t.Fatalf("control %s: no code", api)
	}
	return res.Code
}

// userInfo is what wx.getUserInfo gives the Mini Program.
func (e *wxaEnv) userInfo(t *testing.T, appID, openID string) *emulator.WXGetUserInfoResult {
	t.Helper()
	var res emulator.WXGetUserInfoResult
	e.control(t, appID, "wx.getUserInfo", openID, &res)
	return &res
}

// call sends a JSON request to the gateway (auth: a bearer token or "")
// and records the answer.
func (e *wxaEnv) call(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	auth := ""
	if token != "" {
		auth = "Bearer " + token
	}
	status, b := e.do(t, nil, method, path, auth, body)
	e.mu.Lock()
	e.bodies = append(e.bodies, string(b))
	e.mu.Unlock()
	return status, b
}

// login runs wx.login and POST /wxa/{appid}/login for openID.
func (e *wxaEnv) login(t *testing.T, appID, openID string) *LoginResult {
	t.Helper()
	status, body := e.call(t, "POST", "/wxa/"+appID+"/login", "", map[string]string{"code": e.code(t, appID, "wx.login", openID)})
	if status != http.StatusOK {
		t.Fatalf("POST /wxa/%s/login = %d %s, want 200", appID, status, body)
	}
	var res LoginResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("login: %v in %s", err, body)
	}
	return &res
}

// profileBody is the body of /profile for what wx.getUserInfo gave.
func profileBody(info *emulator.WXGetUserInfoResult) map[string]string {
	return map[string]string{"encrypted_data": info.EncryptedData, "iv": info.IV, "raw_data": info.RawData, "signature": info.Signature}
}

// sessionKey opens the session_key the gateway keeps for token (the test
// knows the token, as the Mini Program does; the store alone does not
// reveal it).
func (e *wxaEnv) sessionKey(t *testing.T, token string) string {
	t.Helper()
	s, err := e.g.Stores().Sessions.Session(t.Context(), token, e.emu.Now())
	if err != nil {
		t.Fatalf("Session(token) = %v", err)
	}
	key, err := openSessionKey(token, s.AppID, s.OpenID, s.SealedSessionKey)
	if err != nil {
		t.Fatalf("openSessionKey = %v", err)
	}
	return key
}

// checkNoSecret fails when a session key appears in an answer of the
// gateway or in its log.
func (e *wxaEnv) checkNoSecret(t *testing.T, keys ...string) {
	t.Helper()
	e.mu.Lock()
	all := strings.Join(e.bodies, "\n")
	e.mu.Unlock()
	logs := e.logs.String()
	if !strings.Contains(logs, "wxa: login") {
		t.Fatalf("the captured log has no wxa: login line; is it the gateway's?\n%s", logs)
	}
	for _, k := range keys {
		raw, _ := base64.StdEncoding.DecodeString(k)
		for _, form := range []string{k, base64.RawURLEncoding.EncodeToString(raw), fmt.Sprintf("%x", raw)} {
			if strings.Contains(all, form) {
				t.Errorf("a session_key (%d characters) appears in an answer of the gateway", len(k))
			}
			if strings.Contains(logs, form) {
				t.Errorf("a session_key (%d characters) appears in the gateway's log", len(k))
			}
		}
	}
}

// TestWXAEndToEnd: a Mini Program user logs in (wx.login → /login), sends
// the profile of wx.getUserInfo (→ /profile), gets the phone number of
// the getPhoneNumber button (→ /phone), reads /api/me and pays an order
// with the bearer token; a second login is not new. No answer and no log
// line holds a session_key. On SQLite and PostgreSQL.
func TestWXAEndToEnd(t *testing.T) {
	for _, st := range payStores {
		t.Run(st, func(t *testing.T) {
			t.Parallel()
			e := newWXAEnv(t, st)
			ctx := t.Context()
			openID := e.users[0]

			lr := e.login(t, testMiniAppID, openID)
			if len(lr.Token) != 43 || lr.OpenID != openID || lr.UnionID != testMiniUnionID || !lr.IsNew ||
				lr.ExpiresIn != int64(DefaultSessionTTL/time.Second) {
				t.Fatalf("login = %+v, want a 43-character token, openid %s, unionid %s, is_new, expires_in %d",
					lr, openID, testMiniUnionID, int64(DefaultSessionTTL/time.Second))
			}
			sess, err := e.g.Stores().Sessions.Session(ctx, lr.Token, e.emu.Now())
			if err != nil || sess.AppID != testMiniAppID || sess.OpenID != openID {
				t.Fatalf("stored session = %+v, %v; want one of %s", sess, err, openID)
			}
			key := e.sessionKey(t, lr.Token)
			if bytes.Contains(sess.SealedSessionKey, []byte(key)) {
				t.Errorf("the session store holds the session_key in clear")
			}
			if _, err := openSessionKey(lr.Token+"x", sess.AppID, sess.OpenID, sess.SealedSessionKey); err == nil {
				t.Errorf("the sealed session_key opens with another token")
			}
			if u, err := e.g.Stores().Users.User(ctx, testMiniAppID, openID); err != nil || u.UnionID != testMiniUnionID || u.Nickname != "" {
				t.Errorf("user after login = %+v, %v; want the unionid and no profile yet", u, err)
			}

			// wx.getUserInfo, then the classic updateWeixin.
			info := e.userInfo(t, testMiniAppID, openID)
			if miniprogram.RawDataSignature(info.RawData, key) != info.Signature {
				t.Fatalf("the gateway's session_key is not the platform's: rawData signature differs")
			}
			status, body := e.call(t, "POST", "/wxa/"+testMiniAppID+"/profile", lr.Token, profileBody(info))
			if status != http.StatusOK {
				t.Fatalf("POST /profile = %d %s, want 200", status, body)
			}
			var pu store.User
			if err := json.Unmarshal(body, &pu); err != nil {
				t.Fatal(err)
			}
			if pu.OpenID != openID || pu.Nickname != testMiniNickname || pu.Sex != 1 || pu.City != "深圳" ||
				pu.HeadImgURL != "https://thirdwx.qlogo.cn/mmopen/vi_32/wxkit/132" || pu.UnionID != testMiniUnionID {
				t.Errorf("POST /profile = %+v, want the emulator's profile of %s", pu, openID)
			}

			// The getPhoneNumber button.
			status, body = e.call(t, "POST", "/wxa/"+testMiniAppID+"/phone", lr.Token,
				map[string]string{"code": e.code(t, testMiniAppID, "getPhoneNumber", openID)})
			if status != http.StatusOK {
				t.Fatalf("POST /phone = %d %s, want 200", status, body)
			}
			var pr PhoneResult
			if err := json.Unmarshal(body, &pr); err != nil || pr != (PhoneResult{PhoneNumber: testMiniPhone, PurePhoneNumber: testMiniPhone, CountryCode: "86"}) {
				t.Errorf("POST /phone = %s, want %s, country code 86", body, testMiniPhone)
			}

			// /api/me with the bearer token: the profile and the number.
			status, body = e.call(t, "GET", "/api/me", lr.Token, nil)
			var me store.User
			if status != http.StatusOK || json.Unmarshal(body, &me) != nil {
				t.Fatalf("GET /api/me = %d %s, want 200", status, body)
			}
			if me.AppID != testMiniAppID || me.OpenID != openID || me.Nickname != testMiniNickname || me.PhoneNumber != testMiniPhone {
				t.Errorf("GET /api/me = %+v, want %s with nickname and phone number", me, openID)
			}

			// A payment, JSAPI with the Mini Program's appid, paid.
			oc := e.createOrder(t, nil, "Bearer "+lr.Token, 990)
			if oc.PayParams.AppID != testMiniAppID {
				t.Errorf("pay_params.appId = %s, want the Mini Program's %s", oc.PayParams.AppID, testMiniAppID)
			}
			eo, err := e.emu.MerchantOrder(e.mchID, oc.OutTradeNo)
			if err != nil || eo.AppID != testMiniAppID || eo.OpenID != openID || eo.TradeType != "JSAPI" || eo.Amount != 990 {
				t.Fatalf("the platform's order = %+v, %v; want a JSAPI order of %s for %s, 990 fen", eo, err, testMiniAppID, openID)
			}
			if _, err := e.emu.PayOrder(oc.PrepayID, emulator.Payment{OpenID: openID, PayParams: payParamsMap(oc.PayParams)}); err != nil {
				t.Fatalf("PayOrder = %v", err)
			}
			if err := e.emu.WaitNotifies(ctx); err != nil {
				t.Fatal(err)
			}
			if got := e.orderStatus(t, nil, "Bearer "+lr.Token, oc.OutTradeNo); got.State != "SUCCESS" {
				t.Errorf("order after paying = %+v, want SUCCESS", got)
			}

			// Logging in again: not new, a new token and session_key; the
			// profile and the number stay.
			lr2 := e.login(t, testMiniAppID, openID)
			if lr2.IsNew || lr2.Token == lr.Token || lr2.OpenID != openID {
				t.Errorf("second login = %+v, want is_new false and a new token", lr2)
			}
			key2 := e.sessionKey(t, lr2.Token)
			status, body = e.call(t, "GET", "/api/me", lr2.Token, nil)
			if status != http.StatusOK || !strings.Contains(string(body), testMiniPhone) || !strings.Contains(string(body), testMiniNickname) {
				t.Errorf("GET /api/me after a second login = %d %s, want the profile and the number", status, body)
			}
			// Data of the new login does not decrypt with the old session.
			status, body = e.call(t, "POST", "/wxa/"+testMiniAppID+"/profile", lr.Token, profileBody(e.userInfo(t, testMiniAppID, openID)))
			if status != http.StatusBadRequest {
				t.Errorf("POST /profile with the old session and the new login's data = %d %s, want 400", status, body)
			}
			e.checkNoSecret(t, key, key2)
		})
	}
}

// wxaSnapshot dumps the users and sessions tables of the gateway's SQLite
// store, to prove that a refused request changed nothing.
func (e *wxaEnv) snapshot(t *testing.T) string {
	t.Helper()
	db, ok := e.g.Stores().Users.(*sqlite.DB)
	if !ok {
		t.Fatalf("the users store is %T, want *sqlite.DB", e.g.Stores().Users)
	}
	var b strings.Builder
	for _, q := range []string{
		`SELECT appid, openid, unionid, nickname, headimgurl, sex, city, province, country, phone_number, first_seen, last_seen FROM wxkit_users ORDER BY appid, openid`,
		`SELECT id_hash, appid, openid, created_at, expires_at, COALESCE(user_json, ''), hex(sealed_session_key) FROM wxkit_sessions ORDER BY id_hash`,
	} {
		rows, err := db.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
	}
	return b.String()
}

// TestWXARefusals: every refusal of the Mini Program routes answers a
// JSON error with the expected status and leaves the users and sessions
// as they were.
func TestWXARefusals(t *testing.T) {
	e := newWXAEnv(t, "sqlite")
	ctx := t.Context()
	openID := e.users[0]
	lr := e.login(t, testMiniAppID, openID)
	key := e.sessionKey(t, lr.Token)
	other := e.login(t, testOtherMiniID, "") // a user of the other Mini Program
	otherKey := e.sessionKey(t, other.Token)
	// A session of the Mini Program without a session_key (as web login
	// makes).
	plainMini := "plain-" + randHex(t, 16)
	now := e.emu.Now()
	if err := e.g.Stores().Sessions.CreateSession(ctx, plainMini, &store.Session{AppID: testMiniAppID, OpenID: openID,
		Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// An expired Mini Program session (its key sealed properly).
	expired := "expired-" + randHex(t, 16)
	sealed, err := sealSessionKey(expired, testMiniAppID, openID, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.g.Stores().Sessions.CreateSession(ctx, expired, &store.Session{AppID: testMiniAppID, OpenID: openID,
		Created: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour), SealedSessionKey: sealed}); err != nil {
		t.Fatal(err)
	}
	// A used login code.
	usedCode := e.code(t, testMiniAppID, "wx.login", e.users[1])
	if status, body := e.call(t, "POST", "/wxa/"+testMiniAppID+"/login", "", map[string]string{"code": usedCode}); status != http.StatusOK {
		t.Fatalf("login = %d %s", status, body)
	}
	// A used phone code.
	usedPhone := e.code(t, testMiniAppID, "getPhoneNumber", e.users[1])
	if status, body := e.call(t, "POST", "/wxa/"+testMiniAppID+"/phone", e.login(t, testMiniAppID, e.users[1]).Token,
		map[string]string{"code": usedPhone}); status != http.StatusOK {
		t.Fatalf("phone = %d %s", status, body)
	}

	profile := "/wxa/" + testMiniAppID + "/profile"
	// forged returns a profile body for the user, encrypted and signed
	// with the session's own key, whose plaintext is doc.
	forged := func(doc map[string]any) map[string]string {
		raw := `{"nickName":"伪造","gender":0,"language":"zh_CN","city":"","province":"","country":"","avatarUrl":""}`
		pt, _ := json.Marshal(doc)
		iv := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
		enc, err := miniprogram.EncryptData(key, iv, pt)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{"encrypted_data": enc, "iv": iv, "raw_data": raw, "signature": miniprogram.RawDataSignature(raw, key)}
	}
	watermark := func(appID string) map[string]any {
		return map[string]any{"appid": appID, "timestamp": e.emu.Now().Unix()}
	}
	tests := []struct {
		name   string
		path   string
		token  string
		body   func() any
		raw    string // a body sent as is, instead of body
		status int
		want   string // in the error
	}{
		{name: "wrong iv", path: profile, token: lr.Token, status: 400, want: "does not decrypt", body: func() any {
			b := profileBody(e.userInfo(t, testMiniAppID, openID))
			b["iv"] = base64.StdEncoding.EncodeToString([]byte("fedcba9876543210"))
			return b
		}},
		{name: "iv not 16 bytes", path: profile, token: lr.Token, status: 400, want: "iv:", body: func() any {
			b := profileBody(e.userInfo(t, testMiniAppID, openID))
			b["iv"] = "c2hvcnQ="
			return b
		}},
		{name: "tampered data", path: profile, token: lr.Token, status: 400, want: "does not decrypt", body: func() any {
			b := profileBody(e.userInfo(t, testMiniAppID, openID))
			ct, _ := base64.StdEncoding.DecodeString(b["encrypted_data"])
			ct[len(ct)-1] ^= 0x5a
			b["encrypted_data"] = base64.StdEncoding.EncodeToString(ct)
			return b
		}},
		{name: "foreign watermark", path: profile, token: lr.Token, status: 400, want: "another Mini Program", body: func() any {
			return forged(map[string]any{"openId": openID, "nickName": "伪造", "watermark": watermark(testOtherMiniID)})
		}},
		{name: "stale watermark", path: profile, token: lr.Token, status: 400, want: "watermark", body: func() any {
			return forged(map[string]any{"openId": openID, "nickName": "伪造",
				"watermark": map[string]any{"appid": testMiniAppID, "timestamp": e.emu.Now().Add(-2 * time.Hour).Unix()}})
		}},
		{name: "another user's profile", path: profile, token: lr.Token, status: 400, want: "another user", body: func() any {
			return forged(map[string]any{"openId": e.users[2], "nickName": "伪造", "watermark": watermark(testMiniAppID)})
		}},
		{name: "bad rawData signature", path: profile, token: lr.Token, status: 400, want: "signature", body: func() any {
			b := profileBody(e.userInfo(t, testMiniAppID, openID))
			b["raw_data"] = strings.Replace(b["raw_data"], testMiniNickname, "Mallory", 1)
			return b
		}},
		{name: "signature with another key", path: profile, token: lr.Token, status: 400, want: "signature", body: func() any {
			b := profileBody(e.userInfo(t, testMiniAppID, openID))
			b["signature"] = miniprogram.RawDataSignature(b["raw_data"], otherKey)
			return b
		}},
		{name: "missing field", path: profile, token: lr.Token, status: 400, want: "iv: required", body: func() any {
			b := profileBody(e.userInfo(t, testMiniAppID, openID))
			delete(b, "iv")
			return b
		}},
		{name: "unknown field", path: profile, token: lr.Token, status: 400, want: "unknown field", body: func() any {
			b := profileBody(e.userInfo(t, testMiniAppID, openID))
			b["userInfo"] = "x"
			return b
		}},
		{name: "reused login code", path: "/wxa/" + testMiniAppID + "/login", status: 400, want: "40163",
			body: func() any { return map[string]string{"code": usedCode} }},
		{name: "unknown login code", path: "/wxa/" + testMiniAppID + "/login", status: 400, want: "40029",
			body: func() any { return map[string]string{"code": "0a3bXkGa1YwpNH0uYcIa1nS6Xn3bXkGo"} }},
		{name: "login code of another Mini Program", path: "/wxa/" + testOtherMiniID + "/login", status: 400, want: "code",
			body: func() any { return map[string]string{"code": e.code(t, testMiniAppID, "wx.login", e.users[2])} }},
		{name: "empty login code", path: "/wxa/" + testMiniAppID + "/login", status: 400, want: "code: required",
			body: func() any { return map[string]string{"code": ""} }},
		{name: "reused phone code", path: "/wxa/" + testMiniAppID + "/phone", token: lr.Token, status: 400, want: "code",
			body: func() any { return map[string]string{"code": usedPhone} }},
		{name: "missing token", path: profile, status: 401, want: "Bearer",
			body: func() any { return profileBody(e.userInfo(t, testMiniAppID, openID)) }},
		{name: "unknown token", path: profile, token: "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6", status: 401, want: "unknown or expired",
			body: func() any { return profileBody(e.userInfo(t, testMiniAppID, openID)) }},
		{name: "expired token", path: profile, token: expired, status: 401, want: "unknown or expired",
			body: func() any { return profileBody(e.userInfo(t, testMiniAppID, openID)) }},
		{name: "session without session_key", path: profile, token: plainMini, status: 401, want: "no session_key",
			body: func() any { return profileBody(e.userInfo(t, testMiniAppID, openID)) }},
		{name: "phone without token", path: "/wxa/" + testMiniAppID + "/phone", status: 401, want: "Bearer",
			body: func() any { return map[string]string{"code": e.code(t, testMiniAppID, "getPhoneNumber", openID)} }},
		{name: "phone with an expired token", path: "/wxa/" + testMiniAppID + "/phone", token: expired, status: 401, want: "expired",
			body: func() any { return map[string]string{"code": e.code(t, testMiniAppID, "getPhoneNumber", openID)} }},
		{name: "token of another Mini Program", path: profile, token: other.Token, status: 401, want: "not a session of this Mini Program",
			body: func() any { return profileBody(e.userInfo(t, testMiniAppID, openID)) }},
		{name: "wrong appid in the path", path: "/wxa/" + testOtherMiniID + "/profile", token: lr.Token, status: 401, want: "not a session of this Mini Program",
			body: func() any { return profileBody(e.userInfo(t, testMiniAppID, openID)) }},
		{name: "phone with the wrong appid in the path", path: "/wxa/" + testOtherMiniID + "/phone", token: lr.Token, status: 401, want: "not a session",
			body: func() any { return map[string]string{"code": e.code(t, testMiniAppID, "getPhoneNumber", openID)} }},
		{name: "unknown appid", path: "/wxa/wx0000000000000000/login", status: 404, want: "not configured",
			body: func() any { return map[string]string{"code": e.code(t, testMiniAppID, "wx.login", e.users[2])} }},
		{name: "Official Account", path: "/wxa/" + emulator.DemoAppID + "/login", status: 400, want: "not a Mini Program",
			body: func() any { return map[string]string{"code": e.code(t, testMiniAppID, "wx.login", e.users[2])} }},
		{name: "Official Account profile", path: "/wxa/" + emulator.DemoAppID + "/profile", token: lr.Token, status: 400, want: "not a Mini Program",
			body: func() any { return profileBody(e.userInfo(t, testMiniAppID, openID)) }},
		{name: "body too large", path: "/wxa/" + testMiniAppID + "/login", status: 413, want: "larger than",
			raw: `{"code":"` + strings.Repeat("a", 70<<10) + `"}`},
		{name: "not JSON", path: "/wxa/" + testMiniAppID + "/login", status: 400, want: "body", raw: `code=abc`},
		{name: "two objects", path: profile, token: lr.Token, status: 400, want: "one JSON object", raw: `{} {}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != nil {
				body = tc.body()
			}
			before := e.snapshot(t)
			var status int
			var b []byte
			if tc.raw != "" {
				req, _ := http.NewRequestWithContext(t.Context(), "POST", e.url+tc.path, strings.NewReader(tc.raw))
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				status = resp.StatusCode
				e.mu.Lock()
				e.bodies = append(e.bodies, string(b))
				e.mu.Unlock()
			} else {
				status, b = e.call(t, "POST", tc.path, tc.token, body)
			}
			var je jsonError
			if status != tc.status || json.Unmarshal(b, &je) != nil || !strings.Contains(je.Error, tc.want) || je.RequestID == "" {
				t.Errorf("POST %s = %d %s, want %d with a JSON error containing %q and a request_id", tc.path, status, b, tc.status, tc.want)
			}
			if after := e.snapshot(t); after != before {
				t.Errorf("the refused request changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	// None of the refusals changed the user: the profile of the
	// legitimate wx.getUserInfo still goes through afterwards.
	status, b := e.call(t, "POST", profile, lr.Token, profileBody(e.userInfo(t, testMiniAppID, openID)))
	if status != http.StatusOK || !strings.Contains(string(b), testMiniNickname) {
		t.Errorf("POST /profile after the refusals = %d %s, want 200 with the profile", status, b)
	}
	e.checkNoSecret(t, key, otherKey)
}

// TestWXAApiMeBearer: GET /api/me takes a bearer token; without one (or
// with another scheme, or an unknown token) it answers 401. Web login
// beside Mini Programs still defaults to the only Official Account, and
// refuses a Mini Program.
func TestWXAApiMeBearer(t *testing.T) {
	e := newWXAEnv(t, "sqlite")
	c := e.browser(t)
	if resp, body := get(t, c, e.url+"/oauth/login?return=/shop"); resp.Request.URL.Path != "/shop" {
		t.Errorf("web login without app= ended at %s (%d %s), want /shop", resp.Request.URL, resp.StatusCode, body)
	}
	if status, body := e.do(t, c, "GET", "/api/me", "", nil); status != http.StatusOK || !strings.Contains(string(body), e.openID) {
		t.Errorf("GET /api/me with the web session = %d %s, want the Official Account's user", status, body)
	}
	if resp, body := get(t, http.DefaultClient, e.url+"/oauth/login?app="+testMiniAppID); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("web login of a Mini Program = %d %s, want 400", resp.StatusCode, body)
	}
	lr := e.login(t, testMiniAppID, e.users[1])
	for _, tc := range []struct {
		name, auth string
		status     int
	}{
		{"bearer", "Bearer " + lr.Token, 200},
		{"lower-case scheme", "bearer " + lr.Token, 200},
		{"no header", "", 401},
		{"basic", "Basic " + lr.Token, 401},
		{"unknown token", "Bearer " + strings.Repeat("A", 43), 401},
	} {
		status, body := e.do(t, nil, "GET", "/api/me", tc.auth, nil)
		if status != tc.status {
			t.Errorf("%s: GET /api/me = %d %s, want %d", tc.name, status, body, tc.status)
		}
		if status == 200 && !strings.Contains(string(body), e.users[1]) {
			t.Errorf("%s: GET /api/me = %s, want the user %s", tc.name, body, e.users[1])
		}
	}
}

// TestWXAMessagePush: a Mini Program with a token receives its message
// push at /wx/{appid}, in JSON as set on its console (and logged), while
// its login routes work as without one.
func TestWXAMessagePush(t *testing.T) {
	const token = "minipushtoken"
	var gwURL string
	p := newPayEnv(t, payEnvOptions{version: PayV3,
		editEmulator: func(ecfg *emulator.Config) {
			ecfg.Apps = append(ecfg.Apps, emulator.AppConfig{AppID: testMiniAppID, Type: emulator.AppTypeMiniProgram,
				Secret: testMiniSecret, Token: token, PushFormat: emulator.PushFormatJSON,
				Users: []emulator.UserConfig{{Nickname: "推送用户"}}})
		},
		editConfig: func(cfg *Config) {
			gwURL = cfg.PublicURL
			cfg.Apps = append(cfg.Apps, AppConfig{AppID: testMiniAppID, Type: AppTypeMiniProgram, Secret: testMiniSecret, Token: token})
		}})
	if err := p.emu.SetPushURL(testMiniAppID, gwURL+"/wx/"+testMiniAppID); err != nil {
		t.Fatal(err)
	}
	res, err := p.emu.Push(t.Context(), testMiniAppID, emulator.PushRequest{Content: "你好，客服"})
	if err != nil {
		t.Fatalf("Push = %v", err)
	}
	if !res.OK() || len(res.Attempts) != 1 || res.Attempts[0].Status != http.StatusOK {
		t.Fatalf("Push = %+v, want delivered once with 200", res)
	}
	e := &wxaEnv{payEnv: p}
	if lr := e.login(t, testMiniAppID, res.User); lr.OpenID != res.User {
		t.Errorf("login = %+v, want the openid %s", lr, res.User)
	}
}

// TestWXATokenExpires: the token of a Mini Program login lasts
// oauth.session_ttl on the gateway's clock; afterwards every route
// refuses it with 401.
func TestWXATokenExpires(t *testing.T) {
	e := newWXAEnv(t, "sqlite")
	lr := e.login(t, testMiniAppID, e.users[0])
	if status, body := e.call(t, "GET", "/api/me", lr.Token, nil); status != http.StatusOK {
		t.Fatalf("GET /api/me = %d %s, want 200", status, body)
	}
	if _, err := e.emu.Advance(time.Duration(lr.ExpiresIn)*time.Second - time.Second); err != nil {
		t.Fatal(err)
	}
	if status, body := e.call(t, "GET", "/api/me", lr.Token, nil); status != http.StatusOK {
		t.Fatalf("GET /api/me a second before expires_in = %d %s, want 200", status, body)
	}
	if _, err := e.emu.Advance(time.Second); err != nil {
		t.Fatal(err)
	}
	phoneCode := e.code(t, testMiniAppID, "getPhoneNumber", e.users[0])
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/me", nil},
		{"POST", "/wxa/" + testMiniAppID + "/phone", map[string]string{"code": phoneCode}},
		{"POST", "/wxa/" + testMiniAppID + "/profile", profileBody(e.userInfo(t, testMiniAppID, e.users[0]))},
		{"POST", "/pay/orders", map[string]any{"amount": 1, "description": "x"}},
	} {
		if status, body := e.call(t, c.method, c.path, lr.Token, c.body); status != http.StatusUnauthorized {
			t.Errorf("%s %s after expires_in = %d %s, want 401", c.method, c.path, status, body)
		}
	}
	if u, err := e.g.Stores().Users.User(t.Context(), testMiniAppID, e.users[0]); err != nil || u.PhoneNumber != "" {
		t.Errorf("user after the refused phone call = %+v, %v; want no phone number", u, err)
	}
}

// TestWXALoginPlatformDown: when WeChat does not answer, login is 502,
// stores nothing, and neither the answer nor the log holds the AppSecret
// or the code (both travel in jscode2session's query).
func TestWXALoginPlatformDown(t *testing.T) {
	logs := &logBuffer{}
	c := newOfflineGateway(t, testMiniAppID, time.Now(), logs)
	const code = "0a3bXkGa1YwpNH0uYcIa1nS6Xn3bXkGo"
	b, _ := json.Marshal(map[string]string{"code": code})
	resp, err := http.Post(c.url+"/wxa/"+testMiniAppID+"/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "WeChat did not answer") {
		t.Errorf("login with WeChat down = %d %s, want 502", resp.StatusCode, body)
	}
	secret := strings.Repeat("s", 32) // newOfflineGateway's
	out := logs.String()
	if !strings.Contains(out, "wxa: wx.login failed") {
		t.Fatalf("no log line of the failed login:\n%s", out)
	}
	for _, s := range []string{secret, code} {
		if strings.Contains(out, s) || strings.Contains(string(body), s) {
			t.Errorf("%q appears in the answer or the log:\n%s\n%s", s, body, out)
		}
	}
	db := c.g.Stores().Users.(*sqlite.DB)
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT (SELECT COUNT(*) FROM wxkit_users) + (SELECT COUNT(*) FROM wxkit_sessions)`).Scan(&n); err != nil || n != 0 {
		t.Errorf("users and sessions after the failed login = %d, %v; want none", n, err)
	}
}
