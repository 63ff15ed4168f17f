package emulator

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/wxkit/wxkit/internal/browsertest"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
)

// These tests drive the emulator's page in Chromium (internal/browsertest):
// the chat, the menu, and the web view loading pages of an account's site
// served by the test, with the JS-SDK, OAuth and the pay sheet. Under
// CI=true they run; elsewhere they skip when Chromium is not installed.
//
//	go test ./emulator -run TestBrowser -update-screenshots
//
// also rewrites docs/screenshots/*.png.

var updateScreenshots = flag.Bool("update-screenshots", false, "rewrite docs/screenshots/*.png from the browser tests")

// pageReport is what a page of the test site reports back (POST /report).
type pageReport struct {
	Kind string         `json:"kind"`
	Data map[string]any `json:"data"`
}

// browserFixture is the emulator on a real listener, an account's site
// (push URL, pages, OAuth callback) and a browser.
type browserFixture struct {
	*payFixture
	emu     *httptest.Server
	site    *httptest.Server
	reports chan pageReport
	ctx     context.Context // the browser (one tab per subtest: tab)
	secret  string
}

func newBrowserFixture(t *testing.T) *browserFixture {
	t.Helper()
	ctx := browsertest.NewWith(t, browsertest.Options{Width: 1440, Height: 920, Timeout: 3 * time.Minute})
	logConsole(t, ctx)
	f := &browserFixture{payFixture: newPayFixture(t, nil), reports: make(chan pageReport, 16), ctx: ctx, secret: testSecret}
	mux := http.NewServeMux()
	f.emu = httptest.NewServer(f.e)
	t.Cleanup(f.emu.Close)

	// The account's message server: "hello" gets "world".
	mux.Handle("/wx", &webhook.Server{
		AppID: testAppID, Token: testToken, EncodingAESKey: testAESKey, Now: f.e.Now,
		Handler: webhook.HandlerFunc(func(_ context.Context, m *message.Message) (message.Reply, error) {
			if m.MsgType == message.MsgTypeText && m.Content == "hello" {
				return &message.Text{Content: "world"}, nil
			}
			return nil, nil
		}),
	})
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		var rep pageReport
		if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f.reports <- rep
	})
	mux.HandleFunc("GET /page", f.servePage)
	mux.HandleFunc("GET /npm/weixin-js-sdk.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, os.Getenv("WXKIT_WEIXIN_JS_SDK"))
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		redirect := "http://" + r.Host + "/cb"
		if r.URL.Query().Get("bad") != "" {
			redirect = "http://evil.example/cb"
		}
		q := url.Values{"appid": {testAppID}, "redirect_uri": {redirect}, "response_type": {"code"},
			"scope": {r.URL.Query().Get("scope")}, "state": {"st1"}}
		http.Redirect(w, r, f.emu.URL+"/connect/oauth2/authorize?"+q.Encode()+"#wechat_redirect", http.StatusFound)
	})
	mux.HandleFunc("GET /cb", func(w http.ResponseWriter, r *http.Request) {
		// The backend exchanges the code, as an OAuth client does.
		q := url.Values{"appid": {testAppID}, "secret": {f.secret}, "code": {r.URL.Query().Get("code")},
			"grant_type": {"authorization_code"}}
		resp, err := http.Get(f.emu.URL + "/sns/oauth2/access_token?" + q.Encode())
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		var tok struct {
			OpenID  string `json:"openid"`
			Scope   string `json:"scope"`
			ErrCode int    `json:"errcode"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&tok)
		data, _ := json.Marshal(map[string]any{"openid": tok.OpenID, "scope": tok.Scope, "errcode": tok.ErrCode,
			"state": r.URL.Query().Get("state")})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><title>已登录</title><script src="%s/open/js/jweixin-1.6.0.js"></script><p id="who">%s</p>`+
			`<script>fetch('/report',{method:'POST',body:JSON.stringify({kind:'oauth',data:%s})})</script>`,
			f.emu.URL, template.HTMLEscapeString(tok.OpenID), data)
	})
	f.site = httptest.NewServer(mux)
	t.Cleanup(f.site.Close)
	if err := f.e.SetPushURL(testAppID, f.site.URL+"/wx"); err != nil {
		t.Fatal(err)
	}
	return f
}

// jsapiTicket fetches the app's current jsapi_ticket, as its backend does.
func (f *browserFixture) jsapiTicket() string {
	f.t.Helper()
	tok := call(f.t, f.e, "GET", "/cgi-bin/token?grant_type=client_credential&appid="+testAppID+"&secret="+testSecret, "")
	tk := call(f.t, f.e, "GET", "/cgi-bin/ticket/getticket?type=jsapi&access_token="+tok.AccessToken, "")
	if tk.Ticket == "" {
		f.t.Fatalf("getticket = %+v", tk)
	}
	return tk.Ticket
}

// pagePay is what the test page pays with (chooseWXPay's parameters).
type pagePay struct {
	Bridge bool              `json:"bridge"` // WeixinJSBridge.invoke('getBrandWCPayRequest') instead of wx.chooseWXPay
	Params map[string]string `json:"params"`
}

var testPage = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title>
{{if .NPM}}<script src="{{.Emulator}}/open/js/jweixin-1.6.0.js" data-bridge-only></script>
<script>window.module = {exports: {}};</script><script src="/npm/weixin-js-sdk.js"></script>
<script>window.wx = module.exports;</script>
{{else}}<script src="{{.Emulator}}/open/js/jweixin-1.6.0.js"></script>{{end}}</head>
<body style="font-family:sans-serif;padding:16px">
<h3>{{.Title}}</h3><p id="state">config…</p>
<script>
var sent = Promise.resolve();
function report(kind, data) { // in order
  sent = sent.then(function () { return fetch('/report', {method: 'POST', body: JSON.stringify({kind: kind, data: data})}); });
}
var pay = {{.Pay}};
wx.config({{.Config}});
wx.error(function (res) { document.getElementById('state').textContent = res.errMsg; report('error', res); });
wx.ready(function () {
  var st = document.getElementById('state');
  if (st.textContent === 'config…') st.textContent = 'wx.config: ok';
  report('ready', {});
  if (!pay) {
    wx.getLocation({type: 'wgs84', success: function (res) { report('location', res); }, fail: function (res) { report('location', res); }});
    return;
  }
  var done = function (res) { report('pay', res); };
  if (pay.bridge) {
    WeixinJSBridge.invoke('getBrandWCPayRequest', pay.params, done);
    return;
  }
  wx.chooseWXPay({timestamp: pay.params.timeStamp, nonceStr: pay.params.nonceStr, package: pay.params.package,
    signType: pay.params.signType, paySign: pay.params.paySign, success: done, cancel: done, fail: done});
});
</script></body></html>`))

// servePage serves the test site's JS-SDK page: it signs wx.config over its
// own URL with the current jsapi_ticket (?sig=tampered spoils the
// signature) and, with ?pay=KEY, pays with the parameters registered under
// KEY.
func (f *browserFixture) servePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pageURL := "http://" + r.Host + r.URL.RequestURI()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := "Wm3WZYTPz0wzccnW"
	sig := jsapiSignature(f.jsapiTicketNoFail(), nonce, ts, pageURL)
	if q.Get("sig") == "tampered" {
		sig = strings.Repeat("0", 8) + sig[8:]
	}
	var pay *pagePay
	if k := q.Get("pay"); k != "" {
		pays.mu.Lock()
		pay = pays.m[k]
		pays.mu.Unlock()
	}
	title := q.Get("title")
	if title == "" {
		title = "JS-SDK 测试页"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = testPage.Execute(w, map[string]any{
		"Title": title, "Emulator": f.emu.URL, "Pay": pay, "NPM": q.Get("npm") != "",
		"Config": map[string]any{"debug": false, "appId": testAppID, "timestamp": ts, "nonceStr": nonce, "signature": sig,
			"jsApiList": []string{"chooseWXPay", "getLocation", "updateAppMessageShareData"}},
	})
}

// jsapiTicketNoFail is jsapiTicket for handlers (no t.Fatal off the test
// goroutine): "" when the ticket cannot be had.
func (f *browserFixture) jsapiTicketNoFail() string {
	tokW := httptest.NewRecorder()
	f.e.ServeHTTP(tokW, httptest.NewRequest("GET", "/cgi-bin/token?grant_type=client_credential&appid="+testAppID+"&secret="+testSecret, nil))
	var tok apiReply
	_ = json.Unmarshal(tokW.Body.Bytes(), &tok)
	tkW := httptest.NewRecorder()
	f.e.ServeHTTP(tkW, httptest.NewRequest("GET", "/cgi-bin/ticket/getticket?type=jsapi&access_token="+tok.AccessToken, nil))
	var tk apiReply
	_ = json.Unmarshal(tkW.Body.Bytes(), &tk)
	return tk.Ticket
}

// pays are the pay parameters of test pages, by key.
var pays = struct {
	mu sync.Mutex
	m  map[string]*pagePay
}{m: map[string]*pagePay{}}

// report waits for the next report of the test site's pages.
func (f *browserFixture) report(t *testing.T, kind string) map[string]any {
	t.Helper()
	select {
	case r := <-f.reports:
		if r.Kind != kind {
			t.Fatalf("page reported %s %v, want %s", r.Kind, r.Data, kind)
		}
		return r.Data
	case <-time.After(20 * time.Second):
		t.Fatalf("page did not report %s within 20s", kind)
	}
	return nil
}

// tab returns the browser's tab for one subtest. The subtests share one
// tab: chromedp does not follow the frames of a second tab's pages.
func (f *browserFixture) tab(t *testing.T) context.Context {
	t.Helper()
	browsertest.Run(t, f.ctx, chromedp.Navigate("about:blank"))
	for len(f.reports) > 0 { // what an earlier subtest's pages left
		<-f.reports
	}
	return f.ctx
}

// logConsole copies the console of the phone page and its frames, and its
// dialogs, to the test log.
func logConsole(t *testing.T, ctx context.Context) {
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			t.Logf("console.%s: %s", ev.Type, strings.Join(parts, " "))
		case *runtime.EventExceptionThrown:
			t.Logf("exception: %s", ev.ExceptionDetails.Error())
		case *page.EventJavascriptDialogOpening:
			t.Logf("dialog: %s", ev.Message)
		}
	})
}

// webviewURL is the deep link that opens url in the web view as openID.
func (f *browserFixture) webviewURL(openID, page string) string {
	return f.emu.URL + "/_emulator/webview?" + url.Values{"appid": {testAppID}, "openid": {openID}, "url": {page}}.Encode()
}

// shot saves a screenshot of sel as docs/screenshots/name.png when
// -update-screenshots is set.
func shot(t *testing.T, ctx context.Context, name, sel string) {
	t.Helper()
	if !*updateScreenshots {
		return
	}
	var buf []byte
	// Let fonts and transitions settle.
	browsertest.Run(t, ctx, chromedp.Sleep(300*time.Millisecond))
	if sel == "" {
		browsertest.Run(t, ctx, chromedp.FullScreenshot(&buf, 100))
	} else {
		browsertest.Run(t, ctx, chromedp.Screenshot(sel, &buf, chromedp.ByQuery))
	}
	p := filepath.Join("..", "docs", "screenshots", name+".png")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBrowser(t *testing.T) {
	f := newBrowserFixture(t)
	users := f.e.Config().Apps[0].Users

	t.Run("hello world", func(t *testing.T) {
		ctx := f.tab(t)
		browsertest.Run(t, ctx,
			chromedp.Navigate(f.emu.URL+"/ui/#"+testAppID+"/"+testOpenID),
			chromedp.WaitVisible(".footer .input", chromedp.ByQuery),
			chromedp.SendKeys(".footer .input", "hello\r", chromedp.ByQuery),
			chromedp.WaitVisible(`//div[contains(@class,"row in")]//div[contains(@class,"bubble") and text()="world"]`),
		)
		shot(t, ctx, "chat", "")
	})

	t.Run("menu opens a view page in the web view", func(t *testing.T) {
		tok := call(t, f.e, "GET", "/cgi-bin/token?grant_type=client_credential&appid="+testAppID+"&secret="+testSecret, "")
		page := f.site.URL + "/page?title=" + url.QueryEscape("活动页")
		menu := `{"button":[{"type":"view","name":"活动","url":"` + page + `"},{"type":"click","name":"今日","key":"TODAY"}]}`
		if r := call(t, f.e, "POST", "/cgi-bin/menu/create?access_token="+tok.AccessToken, menu); r.ErrCode != 0 {
			t.Fatalf("menu/create = %+v", r)
		}
		t.Cleanup(func() { call(t, f.e, "GET", "/cgi-bin/menu/delete?access_token="+tok.AccessToken, "") })
		ctx := f.tab(t)
		var title string
		browsertest.Run(t, ctx,
			chromedp.Navigate(f.emu.URL+"/ui/#"+testAppID+"/"+testOpenID),
			chromedp.WaitVisible(`//button[contains(@class,"mbtn")]/span[text()="活动"]`),
		)
		shot(t, ctx, "menu", ".phone")
		browsertest.Run(t, ctx, chromedp.Click(`//button[contains(@class,"mbtn")]/span[text()="活动"]`))
		if got := f.report(t, "ready"); got == nil {
			t.Fatal("no ready")
		}
		loc := f.report(t, "location")
		if loc["errMsg"] != "getLocation:ok" || loc["latitude"] == nil || loc["longitude"] == nil {
			t.Errorf("getLocation = %v, want getLocation:ok with latitude and longitude", loc)
		}
		browsertest.Run(t, ctx, chromedp.Poll(`document.getElementById('wv-title').textContent === '活动页'`, nil),
			chromedp.Text("#wv-title", &title, chromedp.ByQuery))
		shot(t, ctx, "webview", ".phone")
		// The tap is pushed to the account as a VIEW event.
		log, err := f.e.Conversation(testAppID, testOpenID)
		if err != nil {
			t.Fatal(err)
		}
		var views int
		for _, en := range log {
			if en.Event == "VIEW" && en.EventKey == page {
				views++
			}
		}
		if views != 1 {
			t.Errorf("conversation has %d VIEW events of %s, want 1: %+v", views, page, log)
		}
	})

	t.Run("wx.config", func(t *testing.T) {
		ctx := f.tab(t)
		browsertest.Run(t, ctx, chromedp.Navigate(f.webviewURL(testOpenID, f.site.URL+"/page")))
		f.report(t, "ready")
		f.report(t, "location")

		browsertest.Run(t, ctx, chromedp.Navigate(f.webviewURL(testOpenID, f.site.URL+"/page?sig=tampered")))
		if got := f.report(t, "error"); got["errMsg"] != JSAPIConfigInvalidSignature {
			t.Errorf("tampered signature: wx.error got %v, want %s", got, JSAPIConfigInvalidSignature)
		}
		f.report(t, "ready") // WeChat runs ready callbacks after a failed config too
		if got := f.report(t, "location"); got["errMsg"] != "getLocation:permission denied" {
			t.Errorf("getLocation after a failed config = %v, want getLocation:permission denied", got)
		}
		shot(t, ctx, "jssdk-invalid-signature", "")

		// localhost is not among the JS-safe domains (the push URL's host, 127.0.0.1:port).
		other := strings.Replace(f.site.URL, "127.0.0.1", "localhost", 1) + "/page"
		browsertest.Run(t, ctx, chromedp.Navigate(f.webviewURL(testOpenID, other)))
		if got := f.report(t, "error"); got["errMsg"] != JSAPIConfigInvalidDomain {
			t.Errorf("page on localhost: wx.error got %v, want %s", got, JSAPIConfigInvalidDomain)
		}
		f.report(t, "ready")
		f.report(t, "location")
	})

	// The npm copy (weixin-js-sdk, not part of this repository) on the
	// emulator's bridge: WXKIT_WEIXIN_JS_SDK=path/to/node_modules/weixin-js-sdk/index.js.
	t.Run("npm weixin-js-sdk", func(t *testing.T) {
		if os.Getenv("WXKIT_WEIXIN_JS_SDK") == "" {
			t.Skip("set WXKIT_WEIXIN_JS_SDK to the npm weixin-js-sdk's index.js to run this test")
		}
		ctx := f.tab(t)
		browsertest.Run(t, ctx, chromedp.Navigate(f.webviewURL(testOpenID, f.site.URL+"/page?npm=1")))
		f.report(t, "ready")
		if got := f.report(t, "location"); got["errMsg"] != "getLocation:ok" || got["latitude"] == nil {
			t.Errorf("npm getLocation = %v, want getLocation:ok", got)
		}
		browsertest.Run(t, ctx, chromedp.Navigate(f.webviewURL(testOpenID, f.site.URL+"/page?npm=1&sig=tampered")))
		if got := f.report(t, "error"); got["errMsg"] != JSAPIConfigInvalidSignature {
			t.Errorf("npm, tampered signature: wx.error got %v, want %s", got, JSAPIConfigInvalidSignature)
		}
		f.report(t, "ready")
		if got := f.report(t, "location"); got["errMsg"] != "getLocation:permission denied" {
			t.Errorf("npm getLocation after a failed config = %v, want getLocation:permission denied", got)
		}
		prepay := f.unifiedOrder("BROWSER-NPM-1", 1, nil)
		p := map[string]string{"appId": testAppID, "timeStamp": "1740794400", "nonceStr": "npm", "package": "prepay_id=" + prepay, "signType": "MD5"}
		p["paySign"] = clientV2Sign(p, testAPIKey, "MD5")
		pays.mu.Lock()
		pays.m["npm"] = &pagePay{Params: p}
		pays.mu.Unlock()
		browsertest.Run(t, ctx, chromedp.Navigate(f.webviewURL(testOpenID, f.site.URL+"/page?npm=1&pay=npm")))
		f.report(t, "ready")
		browsertest.Run(t, ctx, chromedp.Click(".pay-confirm", chromedp.ByQuery), chromedp.Click(".pay-finish", chromedp.ByQuery))
		if got := f.report(t, "pay"); got["errMsg"] != "chooseWXPay:ok" {
			t.Errorf("npm chooseWXPay = %v, want chooseWXPay:ok", got)
		}
	})

	t.Run("oauth", func(t *testing.T) {
		ctx := f.tab(t)
		second := users[1].OpenID
		// snsapi_base: silent, as the phone's user (the second of three).
		browsertest.Run(t, ctx, chromedp.Navigate(f.webviewURL(second, f.site.URL+"/login?scope=snsapi_base")))
		if got := f.report(t, "oauth"); got["openid"] != second || got["scope"] != "snsapi_base" || got["state"] != "st1" {
			t.Errorf("snsapi_base in the web view landed with %v, want openid %s", got, second)
		}
		// snsapi_userinfo: the consent page, then 允许.
		third := users[2].OpenID
		browsertest.Run(t, ctx, chromedp.Navigate(f.webviewURL(third, f.site.URL+"/login?scope=snsapi_userinfo")))
		browsertest.Run(t, ctx,
			chromedp.Poll(browsertest.WebViewJS(`!!d.querySelector('button.allow')`), nil),
		)
		var offered []string
		browsertest.Run(t, ctx, chromedp.Evaluate(browsertest.WebViewJS(`Array.from(d.querySelectorAll('input[name=openid]')).map(i => i.value)`), &offered))
		if len(offered) != 1 || offered[0] != third {
			t.Errorf("consent page offers %v, want only the web view's user %s", offered, third)
		}
		shot(t, ctx, "oauth-consent", ".phone")
		browsertest.Run(t, ctx, chromedp.Evaluate(browsertest.WebViewJS(`d.querySelector('button.allow').click() || true`), nil))
		if got := f.report(t, "oauth"); got["openid"] != third || got["scope"] != "snsapi_userinfo" {
			t.Errorf("snsapi_userinfo landed with %v, want openid %s", got, third)
		}
		var title string
		browsertest.Run(t, ctx, chromedp.Poll(`document.getElementById('wv-title').textContent === '已登录'`, nil),
			chromedp.Text("#wv-title", &title, chromedp.ByQuery))

		// A redirect_uri off the OAuth domains: the platform's 10003 page.
		browsertest.Run(t, ctx,
			chromedp.Navigate(f.webviewURL(testOpenID, f.site.URL+"/login?scope=snsapi_base&bad=1")),
			chromedp.Poll(browsertest.WebViewJS(`d.body.textContent.includes('redirect_uri域名与后台配置不一致') && d.body.textContent.includes('10003')`), nil),
		)
		shot(t, ctx, "oauth-10003", ".phone")
	})

	payPage := func(t *testing.T, key string, p *pagePay) string {
		pays.mu.Lock()
		pays.m[key] = p
		pays.mu.Unlock()
		return f.webviewURL(testOpenID, f.site.URL+"/page?pay="+key+"&title="+url.QueryEscape("收银台"))
	}
	v2Params := func(prepayID, signType string) map[string]string {
		p := map[string]string{"appId": testAppID, "timeStamp": "1740794400", "nonceStr": "ibuaiVcKdpRxkhJA",
			"package": "prepay_id=" + prepayID, "signType": signType}
		p["paySign"] = clientV2Sign(p, testAPIKey, signType)
		return p
	}
	state := func(t *testing.T, outTradeNo string) TradeState {
		t.Helper()
		o, err := f.e.MerchantOrder(testMchID, outTradeNo)
		if err != nil {
			t.Fatal(err)
		}
		return o.State
	}

	t.Run("pay v2 MD5 confirm", func(t *testing.T) {
		ctx := f.tab(t)
		prepay := f.unifiedOrder("BROWSER-V2-1", 1, nil)
		browsertest.Run(t, ctx, chromedp.Navigate(payPage(t, "v2ok", &pagePay{Params: v2Params(prepay, "MD5")})))
		f.report(t, "ready")
		var merchant, amount string
		browsertest.Run(t, ctx,
			chromedp.WaitVisible(".pay-confirm", chromedp.ByQuery),
			chromedp.Text(".sheet .pay-merchant", &merchant, chromedp.ByQuery),
			chromedp.Text(".sheet .pay-amount", &amount, chromedp.ByQuery),
		)
		if merchant != "测试商户" || amount != "¥0.01" {
			t.Errorf("pay sheet shows %q %q, want 测试商户 ¥0.01", merchant, amount)
		}
		shot(t, ctx, "pay-sheet", ".phone")
		browsertest.Run(t, ctx, chromedp.Click(".pay-confirm", chromedp.ByQuery), chromedp.WaitVisible(".pay-finish", chromedp.ByQuery))
		shot(t, ctx, "pay-success", ".phone")
		browsertest.Run(t, ctx, chromedp.Click(".pay-finish", chromedp.ByQuery))
		if got := f.report(t, "pay"); got["errMsg"] != "chooseWXPay:ok" {
			t.Errorf("chooseWXPay = %v, want chooseWXPay:ok", got)
		}
		if st := state(t, "BROWSER-V2-1"); st != TradeStateSuccess {
			t.Errorf("order state = %s, want SUCCESS", st)
		}
		f.settle()
		if got := f.srv.received(); len(got) == 0 {
			t.Error("no pay notify reached the merchant")
		}
	})

	t.Run("pay v2 HMAC-SHA256 cancel", func(t *testing.T) {
		ctx := f.tab(t)
		prepay := f.unifiedOrder("BROWSER-V2-2", 250, map[string]string{"sign_type": "HMAC-SHA256"})
		browsertest.Run(t, ctx, chromedp.Navigate(payPage(t, "v2cancel", &pagePay{Params: v2Params(prepay, "HMAC-SHA256")})))
		f.report(t, "ready")
		browsertest.Run(t, ctx, chromedp.WaitVisible(".pay-confirm", chromedp.ByQuery), chromedp.Click(".sheet .sh-close", chromedp.ByQuery))
		if got := f.report(t, "pay"); got["errMsg"] != "chooseWXPay:cancel" {
			t.Errorf("chooseWXPay = %v, want chooseWXPay:cancel", got)
		}
		if st := state(t, "BROWSER-V2-2"); st != TradeStateNotPay {
			t.Errorf("order state = %s, want NOTPAY", st)
		}
	})

	t.Run("pay v2 bad paySign", func(t *testing.T) {
		ctx := f.tab(t)
		prepay := f.unifiedOrder("BROWSER-V2-3", 1, nil)
		p := v2Params(prepay, "MD5")
		p["paySign"] = strings.Repeat("A", 32)
		browsertest.Run(t, ctx, chromedp.Navigate(payPage(t, "v2bad", &pagePay{Params: p})))
		f.report(t, "ready")
		var text string
		browsertest.Run(t, ctx, chromedp.WaitVisible("#dialog", chromedp.ByQuery), chromedp.Text("#dialog-text", &text, chromedp.ByQuery))
		if text != "支付验证签名失败" {
			t.Errorf("dialog says %q, want 支付验证签名失败", text)
		}
		shot(t, ctx, "pay-bad-sign", ".phone")
		browsertest.Run(t, ctx, chromedp.Click("#dialog-ok", chromedp.ByQuery))
		if got := f.report(t, "pay"); got["errMsg"] != "chooseWXPay:fail" {
			t.Errorf("chooseWXPay = %v, want chooseWXPay:fail", got)
		}
		if st := state(t, "BROWSER-V2-3"); st != TradeStateNotPay {
			t.Errorf("order state = %s, want NOTPAY", st)
		}
	})

	t.Run("pay v3 WeixinJSBridge", func(t *testing.T) {
		ctx := f.tab(t)
		prepay := f.prepayV3("BROWSER-V3-1", 1)
		browsertest.Run(t, ctx, chromedp.Navigate(payPage(t, "v3ok", &pagePay{Bridge: true, Params: jsapiPayParams(t, f.mk, testAppID, prepay)})))
		f.report(t, "ready")
		browsertest.Run(t, ctx, chromedp.Click(".pay-confirm", chromedp.ByQuery), chromedp.Click(".pay-finish", chromedp.ByQuery))
		if got := f.report(t, "pay"); got["err_msg"] != "get_brand_wcpay_request:ok" {
			t.Errorf("getBrandWCPayRequest = %v, want get_brand_wcpay_request:ok", got)
		}
		if st := state(t, "BROWSER-V3-1"); st != TradeStateSuccess {
			t.Errorf("order state = %s, want SUCCESS", st)
		}

		// Signed with another key: the sheet does not open.
		prepay = f.prepayV3("BROWSER-V3-2", 1)
		browsertest.Run(t, ctx, chromedp.Navigate(payPage(t, "v3bad", &pagePay{Bridge: true, Params: jsapiPayParams(t, testRSAKeys()[1], testAppID, prepay)})))
		f.report(t, "ready")
		browsertest.Run(t, ctx, chromedp.WaitVisible("#dialog", chromedp.ByQuery), chromedp.Click("#dialog-ok", chromedp.ByQuery))
		if got := f.report(t, "pay"); got["err_msg"] != "get_brand_wcpay_request:fail" {
			t.Errorf("getBrandWCPayRequest with a bad paySign = %v, want get_brand_wcpay_request:fail", got)
		}
		if st := state(t, "BROWSER-V3-2"); st != TradeStateNotPay {
			t.Errorf("order state = %s, want NOTPAY", st)
		}
	})

	// A reply of "success" (no reply) is not XML: the page must not parse
	// it as a document (Chromium's parser error page carries inline styles,
	// which the page's Content-Security-Policy refuses, logging an error).
	t.Run("success reply logs no console error", func(t *testing.T) {
		ctx := f.tab(t)
		errs := browsertest.WatchConsole(ctx)
		browsertest.Run(t, ctx,
			chromedp.Navigate(f.emu.URL+"/ui/#"+testAppID+"/"+testOpenID),
			chromedp.WaitVisible(".footer .input", chromedp.ByQuery),
			chromedp.SendKeys(".footer .input", "no reply please\r", chromedp.ByQuery),
			chromedp.Poll(`document.getElementById('dev-body').textContent.includes('应答原文')`, nil),
			chromedp.Poll(`document.getElementById('dev-body').textContent.includes('success')`, nil),
		)
		if got := errs(); len(got) != 0 {
			t.Errorf("console errors after a success reply:\n%s", strings.Join(got, "\n"))
		}
	})
}

// TestBrowserComponentAuthorization: the admin of a simulated account
// approves a third-party platform on the Open Platform's authorization page,
// in the browser, with the effect of the control API.
func TestBrowserComponentAuthorization(t *testing.T) {
	ctx := browsertest.New(t)
	logConsole(t, ctx)
	env := newComponentEnv(t, nil)
	env.pushTicketNow(t)
	pre := env.p.preAuthCode(env.p.componentToken())
	landed := make(chan url.Values, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		landed <- r.URL.Query()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><title>授权完成</title><p id="done">授权完成</p>`)
	}))
	t.Cleanup(cb.Close)

	browsertest.Run(t, ctx,
		chromedp.Navigate(env.emu.URL+loginPage(pre, cb.URL+"/callback")),
		chromedp.WaitVisible(`//label[contains(@class,"account")][.//span[contains(text(),"`+testAppID+`")]]`),
	)
	shot(t, ctx, "component-authorize", "")
	browsertest.Run(t, ctx,
		chromedp.Click(`//label[contains(@class,"account")][.//span[contains(text(),"`+testAppID+`")]]`),
		chromedp.Click(`button.allow`, chromedp.ByQuery),
		chromedp.WaitVisible("#done", chromedp.ByQuery),
	)
	var q url.Values
	select {
	case q = <-landed:
	case <-time.After(10 * time.Second):
		t.Fatal("the platform's redirect_uri was not reached")
	}
	if !strings.HasPrefix(q.Get("auth_code"), "queryauthcode@@@") || q.Get("expires_in") != "3600" {
		t.Errorf("landed with %v, want auth_code and expires_in=3600", q)
	}
	// As with the control API: the authorized event, and query_auth works.
	evs := env.p.eventsOf(InfoTypeAuthorized)
	if len(evs) != 1 || evs[0]["AuthorizerAppid"] != testAppID || evs[0]["AuthorizationCode"] != q.Get("auth_code") {
		t.Errorf("authorized events = %v, want one for %s with the auth_code", evs, testAppID)
	}
	if r := env.p.queryAuth(env.p.componentToken(), q.Get("auth_code")); r.AuthorizationInfo.AuthorizerAppID != testAppID {
		t.Errorf("query_auth = %+v, want authorizer %s", r, testAppID)
	}
}
