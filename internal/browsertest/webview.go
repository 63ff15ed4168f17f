package browsertest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// The emulator's phone page (its root URL, /ui/) shows a page of an
// account's site in the web view, an iframe in #wv-frame. These helpers
// reach into that frame.

// WebViewJS returns a JavaScript expression, to evaluate on the emulator's
// phone page (chromedp.Evaluate, chromedp.Poll), that gives expr evaluated
// with d bound to the document of the web view's frame, or false while
// there is no such document. It reads the emulator's own pages only (the
// OAuth consent page: the phone page's origin); for a page on another
// origin use InWebView.
func WebViewJS(expr string) string {
	return `(() => { const f = document.querySelector('#wv-frame iframe'); let d; try { d = f && f.contentDocument; } catch (e) { return false; }` +
		` if (!d || !d.body) return false; return (` + expr + `); })()`
}

// InWebView waits, at most 30 s, until expr, evaluated in the web view's
// frame while its location's path starts with pathPrefix, gives a
// non-empty string, and returns it; otherwise it fails t. It works for
// pages on any origin (such as the gateway's demo page). The frame may
// navigate meanwhile (a sign-in's redirects): each attempt finds it anew,
// and an exception in expr counts as "".
func InWebView(t testing.TB, ctx context.Context, pathPrefix, expr string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	pred := `(() => { try { if (!location.pathname.startsWith(` + jsString(pathPrefix) + `)) return ''; return (` + expr + `) || ''; } catch (e) { return ''; } })()`
	var last error
	for time.Now().Before(deadline) {
		var frames []*cdp.Node
		var got string
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := chromedp.Run(actx,
			chromedp.Nodes("#wv-frame iframe", &frames, chromedp.ByQuery),
			chromedp.ActionFunc(func(c context.Context) error {
				return chromedp.Poll(pred, &got, chromedp.WithPollingInFrame(frames[0]),
					chromedp.WithPollingTimeout(3*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)).Do(c)
			}))
		cancel()
		if err == nil && got != "" {
			return got
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	t.Fatalf("the web view's page %s… never gave %s: %v", pathPrefix, expr, last)
	return ""
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}
