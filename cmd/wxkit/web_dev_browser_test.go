package main

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/internal/browsertest"
	"github.com/wxkit/wxkit/store"
)

// bannerChat finds the chat page's URL in the dev banner's "chat" line.
var bannerChat = regexp.MustCompile(`(?m)^\s+chat\s+(http://\S+)\s`)

// TestBrowserDevDemo: dev mode as a newcomer meets it, in Chromium
// (internal/browsertest). `wxkit serve` with no configuration; the chat
// page the banner names, with the demo app and its first user; the menu's
// Demo button opens the gateway's demo page in the web view, which signs
// in through OAuth (the consent page, 允许), shows the user, runs
// wx.config and pays ¥0.01 (the pay sheet, 确认支付, 完成): the page shows
// SUCCESS, and so does `wxkit pay orders` (the gateway's store).
func TestBrowserDevDemo(t *testing.T) {
	ctx := browsertest.NewWith(t, browsertest.Options{Width: 1440, Height: 920, Timeout: 2 * time.Minute})
	consoleErrors := browsertest.WatchConsole(ctx)
	t.Chdir(t.TempDir())
	r := mustRunMain(t, nil, "serve", "--listen", "127.0.0.1:0", "--emulator-listen", "127.0.0.1:0")
	m := bannerChat.FindStringSubmatch(r.stdout.String())
	if m == nil {
		t.Fatalf("the dev banner names no chat page:\n%s", r.stdout)
	}
	chat := m[1]
	if chat != r.emulatorURL+"/" {
		t.Errorf("the dev banner's chat page is %s, want the emulator's root %s/", chat, r.emulatorURL)
	}
	user := emulator.DefaultConfig().Apps[0].Users[0]

	// The chat page: the first app, its users listed; tap the first one.
	var hash string
	browsertest.Run(t, ctx, chromedp.Navigate(chat),
		chromedp.WaitVisible("#users li", chromedp.ByQuery),
		chromedp.Click("#users li:first-child", chromedp.ByQuery),
		chromedp.Poll(`location.hash.length > 1`, nil),
		chromedp.Evaluate(`location.hash`, &hash))
	if want := "#" + emulator.DemoAppID + "/" + user.OpenID; hash != want {
		t.Fatalf("the chat page shows %s, want the demo app and its first user (%s)", hash, want)
	}

	// The menu (synced by dev mode at start; the page polls it): Demo opens
	// the demo page, which signs in: /api/me is 401, /oauth/login, the
	// consent page asks, 允许.
	demo := `//button[contains(@class,"mbtn")]/span[text()="Demo"]`
	browsertest.Run(t, ctx, chromedp.WaitVisible(demo), chromedp.Click(demo),
		chromedp.Poll(browsertest.WebViewJS(`!!d.querySelector('button.allow')`), nil))
	browsertest.Run(t, ctx, chromedp.Evaluate(browsertest.WebViewJS(`d.querySelector('button.allow').click() || true`), nil))
	inDemo := func(expr string) string {
		t.Helper()
		return browsertest.InWebView(t, ctx, "/demo/", expr)
	}
	if got := inDemo(`document.getElementById('nickname') && document.getElementById('nickname').textContent`); got != user.Nickname {
		t.Errorf("the page shows the nickname %q, want %q", got, user.Nickname)
	}
	if got := inDemo(`document.getElementById('openid').textContent`); got != user.OpenID {
		t.Errorf("the page shows the openid %q, want %q", got, user.OpenID)
	}
	if got := inDemo(`(s => s === 'wx.config ok' || s.startsWith('config:') ? s : '')(document.getElementById('jssdk').textContent)`); got != "wx.config ok" {
		t.Fatalf("the page's JS-SDK status = %q, want wx.config ok", got)
	}

	// Pay: the pay sheet, 确认支付, 完成.
	inDemo(`document.getElementById('pay').click() || 'clicked'`)
	var amount string
	browsertest.Run(t, ctx, chromedp.WaitVisible(".pay-confirm", chromedp.ByQuery),
		chromedp.Text(".sheet .pay-amount", &amount, chromedp.ByQuery))
	if amount != "¥0.01" {
		t.Errorf("the pay sheet shows %q, want ¥0.01", amount)
	}
	browsertest.Run(t, ctx, chromedp.Click(".pay-confirm", chromedp.ByQuery), chromedp.Click(".pay-finish", chromedp.ByQuery))
	if got := inDemo(`(s => s === 'SUCCESS' || s === 'PAYERROR' || s === 'CLOSED' ? s : '')(document.getElementById('state').textContent)`); got != "SUCCESS" {
		t.Fatalf("the page shows the state %q, want SUCCESS", got)
	}
	no := inDemo(`document.getElementById('out-trade-no').textContent`)

	// The gateway's store has the order SUCCESS: `wxkit pay orders`, dev
	// mode's configuration.
	out, err := runMain(t, nil, "pay", "orders", "--json")
	if err != nil {
		t.Fatalf("pay orders: %v", err)
	}
	var orders []store.Order
	if err := json.Unmarshal([]byte(out), &orders); err != nil {
		t.Fatalf("pay orders --json: %v in %s", err, out)
	}
	if len(orders) != 1 || orders[0].OutTradeNo != no || orders[0].State != store.TradeStateSuccess ||
		orders[0].Amount != 1 || orders[0].OpenID != user.OpenID || orders[0].AppID != emulator.DemoAppID {
		t.Errorf("pay orders = %+v, want one order %s: SUCCESS, 1 fen, of %s for %s", orders, no, emulator.DemoAppID, user.OpenID)
	}

	// The tap reached the account as a VIEW event of the demo page.
	var conv struct {
		Messages []emulator.ConversationEntry `json:"messages"`
	}
	getJSON(t, r.emulatorURL+"/_emulator/apps/"+emulator.DemoAppID+"/messages?"+url.Values{"user": {user.OpenID}}.Encode(), &conv)
	var views int
	for _, en := range conv.Messages {
		if en.Event == "VIEW" && en.EventKey == r.gatewayURL+"/demo/" {
			views++
		}
	}
	if views != 1 {
		t.Errorf("the conversation has %d VIEW events of the demo page, want 1: %+v", views, conv.Messages)
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
}
