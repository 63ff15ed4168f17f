package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wxkit/wxkit/openplatform"
)

// ComponentAuthCookie is the cookie that carries an authorization in
// progress from /component/{appid}/authorize to its callback: the return
// path and an expiry, signed with oauth.secret and bound to the component.
// Its path is /component/{appid}/, so no other route sees it.
const ComponentAuthCookie = "wxkit_component_auth"

// componentAuthTTL is how long an authorization may take (the platform's
// pre_auth_code lives 1800 s).
const componentAuthTTL = 30 * time.Minute

// serveComponentAuthorize serves GET /component/{component_appid}/authorize?return=/path
// (optional auth_type=1|2|3 and biz_appid): it checks that return is a local
// path, creates a pre_auth_code, sets the signed ComponentAuthCookie and
// answers 302 to the authorization page: componentloginpage, or
// bindcomponent when the browser is WeChat's (User-Agent MicroMessenger).
// Without a ticket newer than 12 h it answers 503 saying so.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Authorization_Process_Technical_Description.html
func (g *Gateway) serveComponentAuthorize(w http.ResponseWriter, r *http.Request, cs *componentState) {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	ret := q.Get("return")
	if ret == "" {
		ret = "/"
	}
	if !strings.HasPrefix(ret, "/") {
		writeJSON(w, http.StatusBadRequest, webError{"return: must be a local path starting with /"})
		return
	}
	if err := g.web.checkReturn(ret); err != nil {
		writeJSON(w, http.StatusBadRequest, webError{"return: " + err.Error()})
		return
	}
	authType := openplatform.AuthTypeDefault
	if s := q.Get("auth_type"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 3 {
			writeJSON(w, http.StatusBadRequest, webError{"auth_type: must be 1 (Official Accounts), 2 (Mini Programs) or 3 (both)"})
			return
		}
		authType = openplatform.AuthType(n)
	}
	biz := q.Get("biz_appid")
	if biz != "" && !appIDPattern.MatchString(biz) {
		writeJSON(w, http.StatusBadRequest, webError{"biz_appid: not an AppID"})
		return
	}
	pre, err := cs.comp.PreAuthCode(r.Context())
	if err != nil {
		g.componentFail(w, r, cs, "component: creating a pre_auth_code failed", err)
		return
	}
	appID := cs.cfg.AppID
	http.SetCookie(w, &http.Cookie{
		Name:     ComponentAuthCookie,
		Value:    g.signComponentAuth(appID, ret, g.now().Add(componentAuthTTL)),
		Path:     "/component/" + appID + "/",
		MaxAge:   int(componentAuthTTL / time.Second),
		HttpOnly: true,
		Secure:   g.web.secure,
		SameSite: http.SameSiteLaxMode,
	})
	redirect := g.cfg.PublicURL + "/component/" + appID + "/callback"
	target := cs.comp.AuthorizeURL(pre.Code, redirect, authType, biz)
	if strings.Contains(r.UserAgent(), "MicroMessenger") {
		target = cs.comp.MobileAuthorizeURL(pre.Code, redirect, authType, biz)
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// serveComponentCallback serves GET /component/{component_appid}/callback?auth_code=...&expires_in=...,
// where the authorization page sends the administrator back: it checks the
// ComponentAuthCookie (signature, component, expiry; then clears it),
// exchanges the code (api_query_auth), which stores the authorizer with
// its refresh token encrypted, and answers 302 to the return path. A
// missing or bad cookie is 400 and nothing is exchanged.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/authorization_info.html
func (g *Gateway) serveComponentCallback(w http.ResponseWriter, r *http.Request, cs *componentState) {
	w.Header().Set("Cache-Control", "no-store")
	appID := cs.cfg.AppID
	ck, err := r.Cookie(ComponentAuthCookie)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, webError{"no authorization in progress in this browser; start at /component/" + appID + "/authorize"})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ComponentAuthCookie, Value: "", Path: "/component/" + appID + "/", MaxAge: -1,
		HttpOnly: true, Secure: g.web.secure, SameSite: http.SameSiteLaxMode})
	ret, ok := g.verifyComponentAuth(appID, ck.Value, g.now())
	if !ok || g.web.checkReturn(ret) != nil || !strings.HasPrefix(ret, "/") {
		g.logger.LogAttrs(r.Context(), slog.LevelWarn, "component: callback refused: bad or expired authorization cookie",
			slog.String("component_appid", appID))
		writeJSON(w, http.StatusBadRequest, webError{"invalid or expired authorization; start again at /component/" + appID + "/authorize"})
		return
	}
	code := r.URL.Query().Get("auth_code")
	if code == "" {
		writeJSON(w, http.StatusForbidden, webError{"authorization refused (no auth_code)"})
		return
	}
	a, err := cs.comp.QueryAuth(r.Context(), code)
	if err != nil {
		g.componentFail(w, r, cs, "component: api_query_auth failed", err)
		return
	}
	g.logger.LogAttrs(r.Context(), slog.LevelInfo, "component: account authorized",
		slog.String("component_appid", appID), slog.String("authorizer_appid", a.AuthorizerAppID), slog.Any("func_info", []int(a.FuncInfo)))
	http.Redirect(w, r, ret, http.StatusFound)
}

// componentFail answers a failed component call: 503 naming the missing
// ticket, 400 for an invalid or expired code, else 502.
func (g *Gateway) componentFail(w http.ResponseWriter, r *http.Request, cs *componentState, msg string, err error) {
	// Errors of openplatform carry no secret, ticket or token.
	g.logger.LogAttrs(r.Context(), slog.LevelError, msg, slog.String("component_appid", cs.cfg.AppID), slog.String("error", err.Error()))
	switch {
	case errors.Is(err, openplatform.ErrNoTicket):
		writeJSON(w, http.StatusServiceUnavailable, webError{g.noTicketMessage(cs.cfg.AppID)})
	case errors.Is(err, openplatform.ErrCodeInvalid), errors.Is(err, openplatform.ErrCodeExpired):
		writeJSON(w, http.StatusBadRequest, webError{"invalid or expired auth_code; authorize again"})
	default:
		writeJSON(w, http.StatusBadGateway, webError{"WeChat refused the call (see the gateway log)"})
	}
}

// noTicketMessage says why component calls fail without a ticket.
func (g *Gateway) noTicketMessage(appID string) string {
	return "no component_verify_ticket newer than 12h for " + appID + ": check the authorization event URL (" +
		g.cfg.PublicURL + "/component/" + appID + "/notify)"
}

// signComponentAuth encodes and signs the authorization cookie:
// base64url(expiry uint32 BE | return path) "." base64url(mac), mac the
// first 16 bytes of HMAC-SHA256(oauth.secret, "wxkit-component-authorize\x00"
// component_appid "\x00" payload).
func (g *Gateway) signComponentAuth(appID, ret string, expires time.Time) string {
	p := binary.BigEndian.AppendUint32(nil, uint32(expires.Unix()))
	payload := base64.RawURLEncoding.EncodeToString(append(p, ret...))
	return payload + "." + base64.RawURLEncoding.EncodeToString(g.componentAuthMAC(appID, payload))
}

func (g *Gateway) componentAuthMAC(appID, payload string) []byte {
	m := hmac.New(sha256.New, g.web.signer.key)
	m.Write([]byte("wxkit-component-authorize\x00" + appID + "\x00" + payload))
	return m.Sum(nil)[:16]
}

// verifyComponentAuth checks a cookie of signComponentAuth (MAC in
// constant time, expiry) and returns its return path.
func (g *Gateway) verifyComponentAuth(appID, v string, now time.Time) (string, bool) {
	if len(v) > 4096 {
		return "", false
	}
	payload, sig, ok := strings.Cut(v, ".")
	if !ok {
		return "", false
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(got, g.componentAuthMAC(appID, payload)) {
		return "", false
	}
	p, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil || len(p) < 5 {
		return "", false
	}
	if !now.Before(time.Unix(int64(binary.BigEndian.Uint32(p[:4])), 0)) {
		return "", false
	}
	ret := string(p[4:])
	if _, err := url.Parse(ret); err != nil {
		return "", false
	}
	return ret, true
}
