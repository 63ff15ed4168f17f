package gateway

import (
	"context"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/internal/browsertest"
	"github.com/wxkit/wxkit/store"
)

// TestBrowserDemo drives the demo page (web.demo) in the emulator's web
// view, in Chromium (internal/browsertest), for a v3 merchant and v2
// merchants signing with HMAC-SHA256 and MD5: the page signs in through
// the gateway's OAuth (the consent page, 允许), shows the user, runs
// wx.config, pays 0.01 CNY (the order turns SUCCESS on the platform, in
// the gateway and on the page) and, paying again, cancels (NOTPAY).
//
//	go test ./gateway -run TestBrowserDemo -update-screenshots
//
// also rewrites docs/screenshots/demo-signin.png and demo.png (from the v3
// run).
var updateScreenshots = flag.Bool("update-screenshots", false, "rewrite docs/screenshots/demo*.png from TestBrowserDemo")

func TestBrowserDemo(t *testing.T) {
	for _, k := range []struct{ name, version, signType string }{
		{"v3", PayV3, ""},
		{"v2-HMAC-SHA256", PayV2, "HMAC-SHA256"},
		{"v2-MD5", PayV2, "MD5"},
	} {
		t.Run(k.name, func(t *testing.T) {
			ctx := browsertest.NewWith(t, browsertest.Options{Width: 1440, Height: 920, Timeout: 2 * time.Minute})
			consoleErrors := browsertest.WatchConsole(ctx)
			e := newPayEnv(t, payEnvOptions{version: k.version, signType: k.signType, noForward: true,
				editEmulator: func(c *emulator.Config) {
					c.Apps[0].JSDomains = c.Apps[0].OAuth.Domains // the gateway's host
					c.Apps[0].OAuth.AutoApprove = ""              // the web view's user consents
				},
				editConfig: func(c *Config) {
					c.Web.Demo = true
					c.Apps[0].JSSDK.Domains = []string{c.Listen}
				}})
			user := e.emu.Config().Apps[0].Users[0]
			link := e.emu.URL + "/_emulator/webview?" + url.Values{"appid": {e.appID}, "openid": {user.OpenID},
				"url": {e.url + "/demo/"}}.Encode()
			screenshots := *updateScreenshots && k.version == PayV3

			// Sign in: /api/me is 401, the page goes to /oauth/login, the
			// consent page asks, 允许.
			browsertest.Run(t, ctx, chromedp.Navigate(link), chromedp.Poll(browsertest.WebViewJS(`!!d.querySelector('button.allow')`), nil))
			if screenshots {
				demoShot(t, ctx, "demo-signin")
			}
			browsertest.Run(t, ctx, chromedp.Evaluate(browsertest.WebViewJS(`d.querySelector('button.allow').click() || true`), nil))
			if got := inDemo(t, ctx, `document.getElementById('nickname') && document.getElementById('nickname').textContent`); got != user.Nickname {
				t.Errorf("the page shows the nickname %q, want %q", got, user.Nickname)
			}
			if got := inDemo(t, ctx, `document.getElementById('openid').textContent`); got != user.OpenID {
				t.Errorf("the page shows the openid %q, want %q", got, user.OpenID)
			}
			if got := inDemo(t, ctx, `(s => s === 'wx.config ok' || s.startsWith('config:') ? s : '')(document.getElementById('jssdk').textContent)`); got != "wx.config ok" {
				t.Fatalf("the page's JS-SDK status = %q, want wx.config ok", got)
			}

			// Pay: the pay sheet of the phone, 确认支付, 完成.
			inDemo(t, ctx, `document.getElementById('pay').click() || 'clicked'`)
			browsertest.Run(t, ctx, chromedp.WaitVisible(".pay-confirm", chromedp.ByQuery))
			var amount string
			browsertest.Run(t, ctx, chromedp.Text(".sheet .pay-amount", &amount, chromedp.ByQuery))
			if amount != "¥0.01" {
				t.Errorf("the pay sheet shows %q, want ¥0.01", amount)
			}
			browsertest.Run(t, ctx, chromedp.Click(".pay-confirm", chromedp.ByQuery), chromedp.Click(".pay-finish", chromedp.ByQuery))
			if got := inDemo(t, ctx, `(s => s === 'SUCCESS' ? s : '')(document.getElementById('state').textContent)`); got != "SUCCESS" {
				t.Errorf("the page shows the state %q, want SUCCESS", got)
			}
			no := inDemo(t, ctx, `document.getElementById('out-trade-no').textContent`)
			if o, err := e.emu.MerchantOrder(e.mchID, no); err != nil || o.State != emulator.TradeStateSuccess || o.Amount != 1 || o.OpenID != user.OpenID || o.Version != k.version {
				t.Errorf("the platform's order %s = %+v, %v; want a SUCCESS %s order of 1 fen for %s", no, o, err, k.version, user.OpenID)
			}
			if o := e.storedOrder(t, no); o.State != store.TradeStateSuccess || o.Amount != 1 || o.OpenID != user.OpenID {
				t.Errorf("the gateway's order %s = %+v, want SUCCESS of 1 fen for %s", no, o, user.OpenID)
			}
			if screenshots {
				demoShot(t, ctx, "demo")
			}

			// Pay again and cancel: the order stays NOTPAY.
			inDemo(t, ctx, `!document.getElementById('pay').disabled && (document.getElementById('pay').click() || 'clicked')`)
			browsertest.Run(t, ctx, chromedp.WaitVisible(".pay-confirm", chromedp.ByQuery), chromedp.Click(".sheet .sh-close", chromedp.ByQuery))
			cancelled := inDemo(t, ctx, `(s => s.startsWith('Cancelled:') ? document.getElementById('out-trade-no').textContent : '')(document.getElementById('pay-status').textContent)`)
			if cancelled == no {
				t.Fatalf("the page shows the paid order %s after the second payment", no)
			}
			if got := inDemo(t, ctx, `document.getElementById('state').textContent`); got != "NOTPAY" {
				t.Errorf("after a cancel the page shows %q, want NOTPAY", got)
			}
			if o, err := e.emu.MerchantOrder(e.mchID, cancelled); err != nil || o.State != emulator.TradeStateNotPay {
				t.Errorf("the platform's cancelled order %s = %+v, %v; want NOTPAY", cancelled, o, err)
			}
			if o := e.storedOrder(t, cancelled); o.State != store.TradeStateNotPay {
				t.Errorf("the gateway's cancelled order = %+v, want NOTPAY", o)
			}
			// The one expected error: /api/me is 401 before the sign-in.
			var errs []string
			for _, s := range consoleErrors() {
				if !strings.HasPrefix(s, "network: ") || !strings.Contains(s, "401") {
					errs = append(errs, s)
				}
			}
			if len(errs) != 0 {
				t.Errorf("console errors (CSP violations, exceptions):\n%s", strings.Join(errs, "\n"))
			}
		})
	}
}

// inDemo waits until expr, evaluated in the web view's frame while it
// shows the demo page (on the gateway's origin), gives a non-empty string,
// and returns it.
func inDemo(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	return browsertest.InWebView(t, ctx, "/demo/", expr)
}

// demoShot saves a screenshot of the phone as docs/screenshots/name.png.
func demoShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var buf []byte
	browsertest.Run(t, ctx, chromedp.Sleep(300*time.Millisecond), // fonts and transitions
		chromedp.Screenshot(".phone", &buf, chromedp.ByQuery))
	p := filepath.Join("..", "docs", "screenshots", name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}
