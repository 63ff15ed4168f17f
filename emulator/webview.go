package emulator

import (
	"fmt"
	"net/http"
	"net/url"
)

// The web view: the phone page loads the account's pages in an iframe, at
// their own URL (no proxy: location.href is what the page's backend signs).
// The pages talk to the phone through the emulator's JS-SDK (jsapi.go); the
// OAuth authorize page, framed in the web view, knows the phone's user from
// a cookie the phone page sets (WebviewUserCookie).

// WebviewUserCookie is the cookie in which the phone page names the
// simulated user (openid) browsing in its web view. The OAuth authorize
// page reads it when it is framed (Sec-Fetch-Dest: iframe, where the browser
// sends the header) and authorizes
// as that user: silently with snsapi_base, on the consent page with
// snsapi_userinfo.
const WebviewUserCookie = "wxkit_webview_user"

// webviewUser returns the user of the web view that framed r for a, or ""
// when r is not a framed request with the cookie of one of a's users.
func webviewUser(r *http.Request, a *app) string {
	// Browsers send Sec-Fetch-Dest to trustworthy origins (https,
	// localhost, 127.0.0.1); where it is sent, only a frame qualifies.
	if d := r.Header.Get("Sec-Fetch-Dest"); d != "" && d != "iframe" {
		return ""
	}
	c, err := r.Cookie(WebviewUserCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.user(c.Value) == nil {
		return ""
	}
	return c.Value
}

// serveWebviewLink serves GET /_emulator/webview?appid=&openid=&url=, the
// deep link of the web view (for tests and bookmarks): it redirects (302)
// to the phone page as that user of that app, with url loaded in the web
// view. Errors are {"error":...}: 404 unknown app or user, 400 a url that
// is not an absolute http(s) URL.
func (e *Emulator) serveWebviewLink(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	appID, openID, page := q.Get("appid"), q.Get("openid"), q.Get("url")
	a := e.app(appID)
	if a == nil {
		controlFail(w, http.StatusNotFound, fmt.Errorf("%w: %q", ErrUnknownApp, appID))
		return
	}
	a.mu.Lock()
	u := a.user(openID)
	a.mu.Unlock()
	if u == nil {
		controlFail(w, http.StatusNotFound, fmt.Errorf("%w: %q", ErrUnknownUser, openID))
		return
	}
	pu, err := url.Parse(page)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		controlFail(w, http.StatusBadRequest, errNoPage)
		return
	}
	target := "/ui/?" + url.Values{"webview": {pu.String()}}.Encode() + "#" + url.PathEscape(appID) + "/" + url.PathEscape(openID)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}
