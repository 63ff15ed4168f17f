package emulator

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/wxcrypto"
)

// rawSHA1 is the hex SHA-1 of s.
func rawSHA1(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestJWeixinServed(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	w := serve(t, e, "GET", "/open/js/jweixin-1.6.0.js", "", nil)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/javascript") {
		t.Fatalf("GET jweixin = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	body := w.Body.String()
	// The bridge the npm copy needs, and the SDK.
	for _, want := range []string{"window.WeixinJSBridge = bridge", "WeixinJSBridgeReady", "window.jWeixin = window.wx = wx",
		"getBrandWCPayRequest", "preVerifyJSAPI", "MicroMessenger/"} {
		if !strings.Contains(body, want) {
			t.Errorf("jweixin lacks %q", want)
		}
	}
	if w := serve(t, e, "POST", "/open/js/jweixin-1.6.0.js", "", nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST jweixin = %d, want 405", w.Code)
	}
}

// jsapiTicketOf fetches the current jsapi_ticket of testAppID.
func jsapiTicketOf(t *testing.T, e *Emulator) string {
	t.Helper()
	tok := call(t, e, "GET", "/cgi-bin/token?grant_type=client_credential&appid="+testAppID+"&secret="+testSecret, "")
	tk := call(t, e, "GET", "/cgi-bin/ticket/getticket?type=jsapi&access_token="+tok.AccessToken, "")
	if tk.Ticket == "" {
		t.Fatalf("getticket = %+v", tk)
	}
	return tk.Ticket
}

func TestJSAPIConfigCheck(t *testing.T) {
	t.Parallel()
	const page = "http://shop.example.com:8080/pay/index.html?from=menu"
	e := newTest(t, func(c *Config) { c.Apps[0].JSDomains = []string{"shop.example.com:8080"} })

	check := func(t *testing.T, c JSAPIConfig) JSAPIConfigResult {
		t.Helper()
		b, _ := json.Marshal(c)
		w := serve(t, e, "POST", JSAPIConfigPath, string(b), nil)
		if w.Code != http.StatusOK {
			t.Fatalf("config-check = %d %s", w.Code, w.Body)
		}
		var r JSAPIConfigResult
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Before any ticket is issued, no signature can be right.
	before := check(t, JSAPIConfig{AppID: testAppID, URL: page, Timestamp: "1414587457", NonceStr: "n", Signature: "00"})
	if before.ErrMsg != JSAPIConfigInvalidSignature || !strings.Contains(before.Hint, "getticket") {
		t.Errorf("before getticket = %+v, want invalid signature with a getticket hint", before)
	}

	ticket := jsapiTicketOf(t, e)
	// The page's backend signs with the library's implementation.
	sign := func(u string) string {
		return wxcrypto.JSSDKSignatureString(ticket, "Wm3WZYTPz0wzccnW", "1414587457", u)
	}
	tests := []struct {
		name string
		c    JSAPIConfig
		want string
	}{
		{"ok", JSAPIConfig{AppID: testAppID, URL: page, Timestamp: "1414587457", NonceStr: "Wm3WZYTPz0wzccnW", Signature: sign(page)}, JSAPIConfigOK},
		{"fragment ignored", JSAPIConfig{AppID: testAppID, URL: page + "#/cart", Timestamp: "1414587457", NonceStr: "Wm3WZYTPz0wzccnW",
			Signature: sign(page)}, JSAPIConfigOK},
		{"upper-case hex", JSAPIConfig{AppID: testAppID, URL: page, Timestamp: "1414587457", NonceStr: "Wm3WZYTPz0wzccnW",
			Signature: strings.ToUpper(sign(page))}, JSAPIConfigOK},
		{"signed with the fragment", JSAPIConfig{AppID: testAppID, URL: page + "#/cart", Timestamp: "1414587457",
			NonceStr: "Wm3WZYTPz0wzccnW", Signature: rawSHA1("jsapi_ticket=" + ticket + "&noncestr=Wm3WZYTPz0wzccnW&timestamp=1414587457&url=" +
				page + "#/cart")}, JSAPIConfigInvalidSignature},
		{"other nonce", JSAPIConfig{AppID: testAppID, URL: page, Timestamp: "1414587457", NonceStr: "other", Signature: sign(page)},
			JSAPIConfigInvalidSignature},
		{"other timestamp", JSAPIConfig{AppID: testAppID, URL: page, Timestamp: "1414587458", NonceStr: "Wm3WZYTPz0wzccnW",
			Signature: sign(page)}, JSAPIConfigInvalidSignature},
		{"other port", JSAPIConfig{AppID: testAppID, URL: "http://shop.example.com:9090/", Timestamp: "1414587457",
			NonceStr: "Wm3WZYTPz0wzccnW", Signature: sign("http://shop.example.com:9090/")}, JSAPIConfigInvalidDomain},
		{"subdomain", JSAPIConfig{AppID: testAppID, URL: "http://m.shop.example.com:8080/", Timestamp: "1414587457",
			NonceStr: "Wm3WZYTPz0wzccnW", Signature: sign("http://m.shop.example.com:8080/")}, JSAPIConfigInvalidDomain},
		{"not a URL", JSAPIConfig{AppID: testAppID, URL: "/pay", Timestamp: "1414587457", NonceStr: "Wm3WZYTPz0wzccnW",
			Signature: sign("/pay")}, JSAPIConfigInvalidDomain},
		{"unknown appid", JSAPIConfig{AppID: "wx9999999999999999", URL: page, Timestamp: "1414587457", NonceStr: "Wm3WZYTPz0wzccnW",
			Signature: sign(page)}, JSAPIConfigInvalidAppID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := check(t, tt.c); got.ErrMsg != tt.want {
				t.Errorf("config-check = %+v, want %s", got, tt.want)
			}
		})
	}

	t.Run("bad body", func(t *testing.T) {
		if w := serve(t, e, "POST", JSAPIConfigPath, `{"appid":1}`, nil); w.Code != http.StatusBadRequest {
			t.Errorf("config-check with a bad body = %d, want 400", w.Code)
		}
	})
}

func TestJSAPIDomainsDefaultToPushURL(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	if err := e.SetPushURL(testAppID, "http://127.0.0.1:8080/wx"); err != nil {
		t.Fatal(err)
	}
	ticket := jsapiTicketOf(t, e)
	for _, tt := range []struct{ page, want string }{
		{"http://127.0.0.1:8080/demo/", JSAPIConfigOK},
		{"http://localhost:8080/demo/", JSAPIConfigInvalidDomain},
	} {
		got := e.CheckJSAPIConfig(JSAPIConfig{AppID: testAppID, URL: tt.page, Timestamp: "1", NonceStr: "n",
			Signature: wxcrypto.JSSDKSignatureString(ticket, "n", "1", tt.page)})
		if got.ErrMsg != tt.want {
			t.Errorf("CheckJSAPIConfig(%s) = %+v, want %s", tt.page, got, tt.want)
		}
	}
}

func TestPaySheetCheck(t *testing.T) {
	t.Parallel()
	f := newPayFixture(t, nil)
	prepay := f.unifiedOrder("SHEET-1", 1, nil)
	params := func(signType string) map[string]string {
		p := map[string]string{"appId": testAppID, "timeStamp": "1740794400", "nonceStr": "n1", "package": "prepay_id=" + prepay,
			"signType": signType}
		p["paySign"] = clientV2Sign(p, testAPIKey, signType)
		return p
	}
	check := func(t *testing.T, id, openID string, p map[string]string) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"openid": openID, "pay_params": p})
		w := serve(t, f.e, "POST", "/_emulator/pay/"+url.PathEscape(id)+"/check", string(b), nil)
		var out map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		return w.Code, out
	}
	for _, st := range []string{"MD5", "HMAC-SHA256"} {
		code, out := check(t, prepay, testOpenID, params(st))
		if code != 200 || out["merchant_name"] != "测试商户" || out["amount"] != float64(1) || out["state"] != "NOTPAY" {
			t.Errorf("%s: check = %d %v, want 200 with the order", st, code, out)
		}
	}
	bad := params("MD5")
	bad["paySign"] = strings.Repeat("0", 32)
	if code, out := check(t, prepay, testOpenID, bad); code != 400 || out["user_sees"] != "支付验证签名失败" {
		t.Errorf("bad paySign: check = %d %v, want 400 支付验证签名失败", code, out)
	}
	sha1 := params("MD5")
	sha1["signType"] = "SHA1" // chooseWXPay's default, wrong for a v2 order
	if code, _ := check(t, prepay, testOpenID, sha1); code != 400 {
		t.Errorf("signType SHA1: check = %d, want 400", code)
	}
	if code, _ := check(t, "wx_other", testOpenID, params("MD5")); code != 400 {
		t.Errorf("path and package disagree: check = %d, want 400", code)
	}
	other := f.e.Config().Apps[0].Users[1].OpenID
	if code, out := check(t, prepay, other, params("MD5")); code != 409 || !strings.Contains(out["user_sees"].(string), "下单用户") {
		t.Errorf("another user: check = %d %v, want 409", code, out)
	}
	unknown := params("MD5")
	unknown["package"] = "prepay_id=wx_unknown"
	if code, _ := check(t, "wx_unknown", testOpenID, unknown); code != 404 {
		t.Errorf("unknown prepay_id: check = %d, want 404", code)
	}
	// A checked order is not paid by the check.
	if o, _ := f.e.MerchantOrder(testMchID, "SHEET-1"); o.State != TradeStateNotPay {
		t.Errorf("state after checks = %s, want NOTPAY", o.State)
	}
	f.pay(prepay, Payment{PayParams: params("MD5")})
	if code, _ := check(t, prepay, testOpenID, params("MD5")); code != 409 {
		t.Errorf("paid order: check = %d, want 409", code)
	}

	// v3: RSA with the merchant key; another key fails.
	prepay3 := f.prepayV3("SHEET-3", 1)
	if code, out := check(t, prepay3, testOpenID, jsapiPayParams(t, f.mk, testAppID, prepay3)); code != 200 {
		t.Errorf("v3: check = %d %v, want 200", code, out)
	}
	if code, _ := check(t, prepay3, testOpenID, jsapiPayParams(t, testRSAKeys()[1], testAppID, prepay3)); code != 400 {
		t.Errorf("v3 signed with another key: check = %d, want 400", code)
	}
}

func TestWebviewLink(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	user := e.Config().Apps[0].Users[1].OpenID
	q := url.Values{"appid": {testAppID}, "openid": {user}, "url": {"http://127.0.0.1:8080/demo/?a=1#x"}}
	w := serve(t, e, "GET", "/_emulator/webview?"+q.Encode(), "", nil)
	loc, _ := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusFound || loc == nil || loc.Path != "/ui/" || loc.Query().Get("webview") != "http://127.0.0.1:8080/demo/?a=1#x" ||
		loc.Fragment != testAppID+"/"+user {
		t.Fatalf("webview link = %d Location %q", w.Code, w.Header().Get("Location"))
	}
	for _, tt := range []struct {
		name string
		q    url.Values
		want int
	}{
		{"unknown app", url.Values{"appid": {"wx0"}, "openid": {user}, "url": {"http://a/"}}, 404},
		{"unknown user", url.Values{"appid": {testAppID}, "openid": {"o0"}, "url": {"http://a/"}}, 404},
		{"relative url", url.Values{"appid": {testAppID}, "openid": {user}, "url": {"/demo/"}}, 400},
		{"javascript url", url.Values{"appid": {testAppID}, "openid": {user}, "url": {"javascript:alert(1)"}}, 400},
	} {
		if w := serve(t, e, "GET", "/_emulator/webview?"+tt.q.Encode(), "", nil); w.Code != tt.want {
			t.Errorf("%s: webview link = %d, want %d", tt.name, w.Code, tt.want)
		}
	}
}

func TestOAuthAsWebviewUser(t *testing.T) {
	t.Parallel()
	e := newTest(t, func(c *Config) { c.Apps[0].OAuth.Domains = []string{"shop.example.com"} })
	users := e.Config().Apps[0].Users
	authorize := func(scope string) string {
		return "/connect/oauth2/authorize?" + url.Values{"appid": {testAppID}, "redirect_uri": {"http://shop.example.com/cb"},
			"response_type": {"code"}, "scope": {scope}, "state": {"s"}}.Encode()
	}
	framed := map[string]string{"Sec-Fetch-Dest": "iframe", "Cookie": WebviewUserCookie + "=" + users[2].OpenID}

	// snsapi_base: a silent pass as the web view's user, though the app has three.
	w := serve(t, e, "GET", authorize("snsapi_base"), "", framed)
	loc, _ := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("framed snsapi_base = %d %q, want a redirect with a code", w.Code, w.Header().Get("Location"))
	}
	var got struct {
		OpenID  string `json:"openid"`
		ErrCode int    `json:"errcode"`
	}
	w2 := serve(t, e, "GET", "/sns/oauth2/access_token?appid="+testAppID+"&secret="+testSecret+"&code="+loc.Query().Get("code")+
		"&grant_type=authorization_code", "", nil)
	if err := json.Unmarshal(w2.Body.Bytes(), &got); err != nil || got.OpenID != users[2].OpenID {
		t.Errorf("code exchange = %s, want openid %s", w2.Body, users[2].OpenID)
	}

	// snsapi_userinfo: the consent page, offering that user only.
	w = serve(t, e, "GET", authorize("snsapi_userinfo"), "", framed)
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, users[2].OpenID) || strings.Contains(body, users[0].OpenID) {
		t.Errorf("framed snsapi_userinfo = %d, want the consent page for %s only", w.Code, users[2].OpenID)
	}

	// Not framed (a browser tab): the cookie is ignored, the picker shows.
	w = serve(t, e, "GET", authorize("snsapi_base"), "", map[string]string{"Sec-Fetch-Dest": "document",
		"Cookie": WebviewUserCookie + "=" + users[2].OpenID})
	if w.Code != 200 || !strings.Contains(w.Body.String(), users[0].OpenID) {
		t.Errorf("top-level snsapi_base = %d, want the user picker", w.Code)
	}
	// A cookie naming no user of the app is ignored.
	w = serve(t, e, "GET", authorize("snsapi_base"), "", map[string]string{"Sec-Fetch-Dest": "iframe", "Cookie": WebviewUserCookie + "=oNobody"})
	if w.Code != 200 {
		t.Errorf("framed with an unknown user = %d, want the user picker", w.Code)
	}
}
