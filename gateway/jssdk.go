package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/token"
)

// serveJSSDKConfig serves GET /jssdk/config?url=PAGE&app=APPID&apis=a,b:
// the wx.config parameters {appId, timestamp, nonceStr, signature,
// jsApiList} for the page PAGE (location.href; anything from "#" on is
// dropped), signed with the app's jsapi_ticket from the gateway's cached
// ticket source (the one the token service serves). The page's host must
// be in apps[].jssdk.domains (else 403); jsApiList is apis, else
// apps[].jssdk.js_api_list. A request whose Origin is on an allowed domain
// gets CORS headers, so that pages served elsewhere can fetch it.
//
// Errors (JSON {"error":...}): 400 missing or invalid url or apis, 403
// domain not allowed, 404 unknown app or app without secret, 502 ticket
// unavailable.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html
func (w *webState) serveJSSDKConfig(rw http.ResponseWriter, r *http.Request) {
	a, status, msg := w.resolveApp(r)
	if a == nil {
		writeJSON(rw, status, webError{msg})
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		if ou, err := url.Parse(origin); err == nil && ou.Host != "" && hostAllowed(a.JSSDK.Domains, ou) {
			rw.Header().Set("Access-Control-Allow-Origin", origin)
		}
		rw.Header().Add("Vary", "Origin")
	}
	q := r.URL.Query()
	page := q.Get("url")
	if i := strings.IndexByte(page, '#'); i >= 0 {
		page = page[:i]
	}
	if page == "" {
		writeJSON(rw, http.StatusBadRequest, webError{"url: required (the page's location.href)"})
		return
	}
	u, err := url.Parse(page)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		writeJSON(rw, http.StatusBadRequest, webError{"url: must be an absolute http(s) URL"})
		return
	}
	if !hostAllowed(a.JSSDK.Domains, u) {
		w.logger.LogAttrs(r.Context(), slog.LevelWarn, "jssdk: page domain not allowed",
			slog.String("appid", a.AppID), slog.String("host", u.Host))
		writeJSON(rw, http.StatusForbidden, webError{"url: the page's domain is not in apps[].jssdk.domains"})
		return
	}
	apis := a.JSSDK.JSAPIList
	if s := q.Get("apis"); s != "" {
		apis = strings.Split(s, ",")
		if len(apis) > 100 {
			writeJSON(rw, http.StatusBadRequest, webError{"apis: at most 100 names"})
			return
		}
		for _, n := range apis {
			if !jsAPIName.MatchString(n) {
				writeJSON(rw, http.StatusBadRequest, webError{"apis: comma-separated JS interface names"})
				return
			}
		}
	}
	src, err := w.g.TokenSource(a.AppID, token.KindJSAPITicket)
	if err != nil {
		writeJSON(rw, http.StatusNotFound, webError{"app: JS-SDK needs the app's secret"})
		return
	}
	signer := &mp.JSSDK{AppID: a.AppID, Ticket: src, Now: w.now}
	cfg, err := signer.Sign(r.Context(), page, apis...)
	if err != nil {
		if errors.Is(err, mp.ErrInvalidPageURL) {
			writeJSON(rw, http.StatusBadRequest, webError{"url: must be an absolute http(s) URL"})
			return
		}
		// Ticket errors never carry the ticket or the access_token.
		w.logger.LogAttrs(r.Context(), slog.LevelError, "jssdk: signing failed", slog.String("appid", a.AppID), slog.String("error", err.Error()))
		msg := "jsapi_ticket unavailable"
		if ae, ok := errors.AsType[*wxkit.APIError](err); ok {
			msg = fmt.Sprintf("jsapi_ticket unavailable (errcode %d)", ae.ErrCode)
		}
		writeJSON(rw, http.StatusBadGateway, webError{msg})
		return
	}
	writeJSON(rw, http.StatusOK, cfg)
}
