package emulator

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The JS-SDK of the web view. The emulator serves its own jweixin at the
// official path, /open/js/jweixin-1.6.0.js (the file of res.wx.qq.com): it
// defines WeixinJSBridge, which talks to the phone page by postMessage, and
// wx on top of it (see jssdk/jweixin-1.6.0.js). The phone page checks
// wx.config with POST /_emulator/jsapi/config-check, as the WeChat client
// checks it with the platform.
//
// In development a page changes one line: it loads
// http://EMULATOR/open/js/jweixin-1.6.0.js instead of
// https://res.wx.qq.com/open/js/jweixin-1.6.0.js (a page that bundles the npm
// copy, weixin-js-sdk, adds that script tag before its bundle).

//go:embed jssdk/jweixin-1.6.0.js
var jweixinJS []byte

// jweixinETag is the strong ETag of jweixinJS.
var jweixinETag = func() string {
	sum := sha256.Sum256(jweixinJS)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}()

// JSAPIConfigPath is the control route that checks a wx.config.
const JSAPIConfigPath = "/_emulator/jsapi/config-check"

func init() {
	handle("/open/js/jweixin-1.6.0.js", (*Emulator).serveJWeixin)
}

// serveJWeixin serves GET /open/js/jweixin-1.6.0.js, the emulator's JS-SDK.
func (e *Emulator) serveJWeixin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/javascript; charset=utf-8")
	h.Set("ETag", jweixinETag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	// Pages of any origin load it, as they load Tencent's.
	h.Set("Access-Control-Allow-Origin", "*")
	http.ServeContent(w, r, "jweixin-1.6.0.js", time.Time{}, bytes.NewReader(jweixinJS))
}

// JSAPIConfig is what wx.config sends: the page's appId, timestamp,
// nonceStr, signature and jsApiList, with the page URL the client reads
// from the web view (location.href).
type JSAPIConfig struct {
	AppID     string   `json:"appid"`
	URL       string   `json:"url"`
	Timestamp string   `json:"timestamp"`
	NonceStr  string   `json:"nonceStr"`
	Signature string   `json:"signature"`
	JSAPIList []string `json:"jsApiList"`
}

// JSAPIConfigResult is the outcome of a wx.config: ErrMsg as the JS-SDK
// reports it ("config:ok", "config:invalid signature", "config:invalid url
// domain", "config:invalid appid"), with an emulator hint saying why.
type JSAPIConfigResult struct {
	ErrMsg string `json:"errMsg"`
	Hint   string `json:"hint,omitempty"`
}

// The wx.config failures, as the JS-SDK reports them in wx.error.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html#66
const (
	JSAPIConfigOK               = "config:ok"
	JSAPIConfigInvalidSignature = "config:invalid signature"
	JSAPIConfigInvalidDomain    = "config:invalid url domain"
	JSAPIConfigInvalidAppID     = "config:invalid appid"
)

// jsapiSignature is the JS-SDK signature: the hex SHA-1 of
// "jsapi_ticket=T&noncestr=N&timestamp=TS&url=U".
func jsapiSignature(ticket, nonceStr, timestamp, pageURL string) string {
	sum := sha1.Sum([]byte("jsapi_ticket=" + ticket + "&noncestr=" + nonceStr + "&timestamp=" + timestamp + "&url=" + pageURL))
	return hex.EncodeToString(sum[:])
}

// jsDomains returns the JS-safe domains of a: apps[].js_domains, or the host
// of its push URL when none are configured.
func jsDomains(a *app) []string {
	if len(a.cfg.JSDomains) > 0 {
		return a.cfg.JSDomains
	}
	a.mu.Lock()
	push := a.pushURL
	a.mu.Unlock()
	if u, err := url.Parse(push); err == nil && u.Host != "" {
		return []string{u.Host}
	}
	return nil
}

// CheckJSAPIConfig checks a wx.config as the platform does: the app must
// exist (else "config:invalid appid"); the page URL, without its #fragment,
// must be an absolute http(s) URL on one of the app's JS-safe domains
// (apps[].js_domains, host[:port], same matching as OAuth domains; else
// "config:invalid url domain"); and the signature must be the SHA-1 of
// "jsapi_ticket=...&noncestr=...&timestamp=...&url=..." over the app's
// current jsapi_ticket (or the previous one within Limits.TokenOverlap of
// its replacement; else "config:invalid signature").
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html#62
func (e *Emulator) CheckJSAPIConfig(c JSAPIConfig) JSAPIConfigResult {
	a := e.app(c.AppID)
	if a == nil {
		return JSAPIConfigResult{ErrMsg: JSAPIConfigInvalidAppID, Hint: "没有 appid 为 " + c.AppID + " 的公众号"}
	}
	pageURL, _, _ := strings.Cut(c.URL, "#")
	u, err := url.Parse(pageURL)
	domains := jsDomains(a)
	if err != nil || !oauthRedirectAllowed(domains, u) {
		hint := "页面 URL 必须是绝对 http(s) URL"
		if err == nil && u.Host != "" {
			hint = "把 " + u.Host + " 加入该公众号的 js_domains（JS 接口安全域名，当前：" + oauthJoinDomains(domains) + "）"
		}
		return JSAPIConfigResult{ErrMsg: JSAPIConfigInvalidDomain, Hint: hint}
	}
	got := []byte(strings.ToLower(c.Signature))
	now := e.Now()
	issued := false
	a.mu.Lock()
	var ok bool
	for _, k := range []string{"jsapi", "jsapi:prev"} {
		t := a.tickets[k]
		if t == nil || !now.Before(t.expires.Add(e.cfg.Limits.TokenOverlap)) {
			continue
		}
		issued = true
		want := jsapiSignature(t.value, c.NonceStr, c.Timestamp, pageURL)
		if subtle.ConstantTimeCompare(got, []byte(want)) == 1 {
			ok = true
		}
	}
	a.mu.Unlock()
	if ok {
		return JSAPIConfigResult{ErrMsg: JSAPIConfigOK}
	}
	hint := "签名应为 sha1(\"jsapi_ticket=<当前 jsapi_ticket>&noncestr=" + c.NonceStr + "&timestamp=" + c.Timestamp +
		"&url=" + pageURL + "\")"
	if !issued {
		hint = "该公众号没有有效的 jsapi_ticket：后端须先调用 /cgi-bin/ticket/getticket?type=jsapi。" + hint
	}
	return JSAPIConfigResult{ErrMsg: JSAPIConfigInvalidSignature, Hint: hint}
}

// webviewControlRoutes adds the web view's routes to the control API:
//
//	POST /_emulator/jsapi/config-check  JSAPIConfig → JSAPIConfigResult (HTTP 200 for every outcome)
//	POST /_emulator/pay/{prepay_id}/check  {"pay_params":{...}} → {"ok":true} (see checkPaySheet)
//	GET  /_emulator/webview?appid=&openid=&url=  the phone as that user with the page open (see serveWebviewLink)
//
// A body that is not JSON is a 400 {"error":...}.
func (e *Emulator) webviewControlRoutes(m *http.ServeMux) {
	m.HandleFunc("POST "+JSAPIConfigPath, func(w http.ResponseWriter, r *http.Request) {
		var c JSAPIConfig
		if err := decodeControl(r, &c); err != nil {
			controlFail(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, e.CheckJSAPIConfig(c))
	})
	m.HandleFunc("POST /_emulator/pay/{prepay_id}/check", e.servePaySheetCheck)
	m.HandleFunc("GET /_emulator/webview", e.serveWebviewLink)
}

// errNoPage is returned for a web view link without a usable page URL.
var errNoPage = errors.New("emulator: url must be an absolute http(s) URL")
