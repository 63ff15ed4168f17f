package gateway

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/oauth"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/token"
)

// webState holds what the web routes of the gateway share: web login
// (oauth.go, session.go), JS-SDK (jssdk.go), verify files (verifyfiles.go),
// menu sync (menu.go) and late replies (latereply.go).
type webState struct {
	g      *Gateway
	cfg    *Config
	logger *slog.Logger
	now    func() time.Time

	signer   stateSigner
	states   store.OAuthStates // the SQL store, or Redis when redis: is set
	sessions store.Sessions    // likewise
	users    store.Users       // the SQL store
	// returnHosts are oauth.allowed_return_hosts plus public_url's host.
	returnHosts []string
	secure      bool // public_url is https: cookies are Secure

	mu      sync.Mutex
	clients map[string]*mp.Client

	menuOnce    sync.Once
	menuDone    chan struct{} // closed when the start-up menu sync ends
	menuResults []MenuSyncResult
}

// registerWebRoutes builds the web state and registers the routes of web
// login, JS-SDK and verify files on g.mux:
//
//	GET  /oauth/login?return=&scope=&app=   302 to WeChat's authorize page
//	GET  /oauth/callback?app=&code=&state=   302 to the return path, with a session cookie
//	POST /oauth/logout                       204, ends the session
//	GET  /api/me                             the session's user (JSON), 401 without one
//	GET  /jssdk/config?url=&app=&apis=       wx.config parameters (JSON)
//	GET  /MP_verify_*.txt                    the configured verify_files
//	GET  /demo/                              the demo page, with web.demo (demo.go)
func (g *Gateway) registerWebRoutes() error {
	w := &webState{
		g:        g,
		cfg:      g.cfg,
		logger:   g.logger,
		now:      g.now, // WithClock
		clients:  make(map[string]*mp.Client),
		menuDone: make(chan struct{}),
	}
	key := []byte(g.cfg.OAuth.Secret)
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("oauth.secret: drawing a random key: %w", err)
		}
		if g.hasOAuthApps() {
			msg := "gateway: oauth.secret is not set (nor WXKIT_OAUTH_SECRET): signing login states with a random per-process key; " +
				"logins only complete on this process and are lost on restart. Set it in production."
			g.logger.Warn(msg)
		}
	}
	w.signer = stateSigner{key: key}
	w.states, w.sessions, w.users = g.stores.States, g.stores.Sessions, g.stores.Users
	pub, err := url.Parse(g.cfg.PublicURL)
	if err != nil {
		return fmt.Errorf("public_url: %w", err)
	}
	w.secure = pub.Scheme == "https"
	w.returnHosts = append([]string{strings.ToLower(pub.Host)}, g.cfg.OAuth.AllowedReturnHosts...)
	g.web = w

	g.mux.Handle("GET /oauth/login", g.ops.limitOAuth("/oauth/login", w.serveLogin))          // ratelimit.go
	g.mux.Handle("GET /oauth/callback", g.ops.limitOAuth("/oauth/callback", w.serveCallback)) // ratelimit.go
	g.mux.HandleFunc("POST /oauth/logout", w.serveLogout)
	g.mux.HandleFunc("GET /api/me", w.serveMe)
	g.mux.HandleFunc("GET /jssdk/config", w.serveJSSDKConfig)
	w.registerVerifyFiles(g.mux)
	return g.registerDemo() // demo.go
}

// hasOAuthApps reports whether some app can do web login (an Official
// Account with a secret).
func (g *Gateway) hasOAuthApps() bool {
	for i := range g.cfg.Apps {
		if g.cfg.Apps[i].Secret != "" && !g.cfg.Apps[i].IsMiniProgram() {
			return true
		}
	}
	return false
}

// MPClient returns an Official Account API client for appID that shares
// the gateway's cached token sources (and so its token store): the client
// used for late replies and menu sync. It fails when the app is unknown or
// has no secret.
func (g *Gateway) MPClient(appID string) (*mp.Client, error) {
	return g.web.mpClient(appID)
}

func (w *webState) mpClient(appID string) (*mp.Client, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.clients[appID]; c != nil {
		return c, nil
	}
	access, err := w.g.TokenSource(appID, token.KindAccessToken)
	if err != nil {
		return nil, err
	}
	ticket, err := w.g.TokenSource(appID, token.KindJSAPITicket)
	if err != nil {
		return nil, err
	}
	c, err := mp.NewClient(appID, "",
		mp.WithTokenSource(access), mp.WithTicketSource(ticket),
		mp.WithBaseURL(w.cfg.WeChat.APIBase), mp.WithHTTPClient(w.g.client),
		mp.WithLogger(w.logger.With(slog.String("appid", appID))),
		mp.WithAPIErrorHook(w.g.ops.metrics.apiError)) // metrics.go
	if err != nil {
		return nil, err
	}
	w.clients[appID] = c
	return c, nil
}

// webError is the JSON body of a refused web request.
type webError struct {
	Error string `json:"error"`
}

// resolveApp returns the app named by the app parameter, or the only
// Official Account when there is one and the parameter is absent (Mini
// Programs have no web login or JS-SDK).
func (w *webState) resolveApp(r *http.Request) (*AppConfig, int, string) {
	id := r.URL.Query().Get("app")
	if id == "" {
		var only *AppConfig
		for i := range w.cfg.Apps {
			if a := &w.cfg.Apps[i]; !a.IsMiniProgram() {
				if only != nil {
					return nil, http.StatusBadRequest, "app: required when several apps are configured"
				}
				only = a
			}
		}
		if only != nil {
			return only, 0, ""
		}
		return nil, http.StatusBadRequest, "app: required (no Official Account to default to)"
	}
	if a := w.cfg.App(id); a != nil {
		return a, 0, ""
	}
	return nil, http.StatusNotFound, "app: not configured in this gateway"
}

// oauthConfig returns the oauth.Config of app a for scope.
func (w *webState) oauthConfig(a *AppConfig, scope oauth.Scope) *oauth.Config {
	return &oauth.Config{
		AppID:       a.AppID,
		AppSecret:   a.Secret,
		RedirectURL: w.cfg.PublicURL + "/oauth/callback?app=" + url.QueryEscape(a.AppID),
		Scope:       scope,
		OpenBase:    w.cfg.WeChat.OpenBase,
		APIBase:     w.cfg.WeChat.APIBase,
		HTTPClient:  w.g.client,
	}
}

// serveLogin serves GET /oauth/login?return=/path&scope=snsapi_base|snsapi_userinfo&app=APPID:
// it checks the return target (checkReturn), stores a fresh nonce, gives
// the browser the secret the nonce commits to in a login cookie
// (LoginCookie) and redirects (302) to WeChat's authorize page with a
// signed state.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
func (w *webState) serveLogin(rw http.ResponseWriter, r *http.Request) {
	a, status, msg := w.resolveApp(r)
	if a == nil {
		writeJSON(rw, status, webError{msg})
		return
	}
	if a.Secret == "" {
		writeJSON(rw, http.StatusNotFound, webError{"app: web login needs the app's secret"})
		return
	}
	if a.IsMiniProgram() {
		writeJSON(rw, http.StatusBadRequest, webError{"app: a Mini Program logs in with POST /wxa/{appid}/login, not web login"})
		return
	}
	q := r.URL.Query()
	scope := oauth.Scope(q.Get("scope"))
	switch scope {
	case "":
		scope = oauth.ScopeBase
	case oauth.ScopeBase, oauth.ScopeUserInfo:
	default:
		writeJSON(rw, http.StatusBadRequest, webError{"scope: must be snsapi_base or snsapi_userinfo"})
		return
	}
	ret := q.Get("return")
	if ret == "" {
		ret = "/"
	}
	if err := w.checkReturn(ret); err != nil {
		w.logger.LogAttrs(r.Context(), slog.LevelWarn, "oauth: login refused: return target not allowed",
			slog.String("appid", a.AppID), slog.String("reason", err.Error()))
		writeJSON(rw, http.StatusBadRequest, webError{"return: " + err.Error()})
		return
	}
	now := w.now()
	expires := now.Add(time.Duration(w.cfg.OAuth.StateTTL))
	st, state, err := w.signer.newLoginState(a.AppID, ret, scope == oauth.ScopeUserInfo, expires)
	if err != nil {
		w.fail(rw, r, "oauth: drawing a nonce failed", err)
		return
	}
	stored := ""
	if st.Stored {
		stored = ret
	}
	if err := w.states.PutState(r.Context(), st.nonceString(), stored, st.Expires); err != nil {
		w.fail(rw, r, "oauth: storing the state failed", err)
		return
	}
	w.setLoginCookie(rw, &st) // session.go
	rw.Header().Set("Cache-Control", "no-store")
	http.Redirect(rw, r, w.oauthConfig(a, scope).AuthCodeURL(state), http.StatusFound)
}

// fail answers 500 and logs err (errors here carry no secrets).
func (w *webState) fail(rw http.ResponseWriter, r *http.Request, msg string, err error) {
	w.logger.LogAttrs(r.Context(), slog.LevelError, msg, slog.String("error", err.Error()))
	writeJSON(rw, http.StatusInternalServerError, webError{"internal error"})
}

// serveCallback serves GET /oauth/callback?app=APPID&code=CODE&state=STATE,
// where WeChat sends the browser back. In order: verify the state (MAC in
// constant time, expiry), check that this browser started the login (its
// login cookie holds the secret the nonce commits to; the cookie is
// cleared), consume its nonce (single use), then, when the
// user consented (a code is present), exchange the code, read the profile
// when the scope allows, upsert the user, start a session (a new random id
// in an HttpOnly, SameSite=Lax cookie) and redirect (302) to the return
// path. A bad, expired or replayed state, or one whose login cookie is
// missing or different (login CSRF), is answered 400, a refused
// consent 403, an upstream failure 502; none of them starts a session.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#1
func (w *webState) serveCallback(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rw.Header().Set("Cache-Control", "no-store")
	a, status, msg := w.resolveApp(r)
	if a == nil {
		writeJSON(rw, status, webError{msg})
		return
	}
	q := r.URL.Query()
	now := w.now()
	st, err := w.signer.verify(a.AppID, q.Get("state"), now)
	if err != nil {
		w.logger.LogAttrs(ctx, slog.LevelWarn, "oauth: callback refused", slog.String("appid", a.AppID), slog.String("reason", err.Error()))
		writeJSON(rw, http.StatusBadRequest, webError{"invalid or expired login state; start the login again"})
		return
	}
	// Before the nonce is consumed: a browser that did not start the login
	// cannot use it up either.
	if reason := w.checkLoginCookie(rw, r, &st); reason != "" { // session.go
		w.logger.LogAttrs(ctx, slog.LevelWarn, "oauth: callback refused", slog.String("appid", a.AppID), slog.String("reason", reason))
		writeJSON(rw, http.StatusBadRequest, webError{"this login was not started in this browser; start the login again"})
		return
	}
	stored, err := w.states.TakeState(ctx, st.nonceString(), now)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		w.fail(rw, r, "oauth: consuming the state failed", err)
		return
	}
	if err != nil {
		w.logger.LogAttrs(ctx, slog.LevelWarn, "oauth: callback refused", slog.String("appid", a.AppID),
			slog.String("reason", "state already used or unknown"))
		writeJSON(rw, http.StatusBadRequest, webError{"invalid or expired login state; start the login again"})
		return
	}
	ret := st.Return
	if st.Stored {
		ret = stored
	}
	if w.checkReturn(ret) != nil { // checked at login; defence in depth
		ret = "/"
	}
	code := q.Get("code")
	if code == "" {
		writeJSON(rw, http.StatusForbidden, webError{"authorization refused"})
		return
	}
	scope := oauth.ScopeBase
	if st.UserInfo {
		scope = oauth.ScopeUserInfo
	}
	oc := w.oauthConfig(a, scope)
	tok, err := oc.Exchange(ctx, code)
	if err != nil {
		// oauth errors never carry the AppSecret, the code or a token.
		w.logger.LogAttrs(ctx, slog.LevelError, "oauth: code exchange failed", slog.String("appid", a.AppID), slog.String("error", err.Error()))
		status, msg := http.StatusBadGateway, "WeChat refused the login; start again"
		if errors.Is(err, wxkit.ErrInvalidCode) || errors.Is(err, wxkit.ErrCodeBeenUsed) {
			status, msg = http.StatusBadRequest, "invalid or used code; start the login again"
		}
		writeJSON(rw, status, webError{msg})
		return
	}
	u := store.User{AppID: a.AppID, OpenID: tok.OpenID, UnionID: tok.UnionID}
	profile := false
	// WeChat answers the granted scope ("snsapi_userinfo", or a list).
	if strings.Contains(string(tok.Scope), string(oauth.ScopeUserInfo)) || (tok.Scope == "" && st.UserInfo) {
		info, err := oc.UserInfo(ctx, tok, oauth.LangZhCN)
		if err != nil {
			w.logger.LogAttrs(ctx, slog.LevelWarn, "oauth: reading the user profile failed; logging in with the openid only",
				slog.String("appid", a.AppID), slog.String("openid", tok.OpenID), slog.String("error", err.Error()))
		} else {
			profile = true
			u.Nickname, u.HeadImgURL, u.Sex = info.Nickname, info.HeadImgURL, int(info.Sex)
			u.City, u.Province, u.Country = info.City, info.Province, info.Country
			if info.UnionID != "" {
				u.UnionID = info.UnionID
			}
		}
	}
	su, err := w.users.UpsertUser(ctx, &u, profile, now)
	if err != nil {
		w.fail(rw, r, "oauth: storing the user failed", err)
		return
	}
	if err := w.startSession(rw, r, su, now); err != nil {
		w.fail(rw, r, "oauth: starting the session failed", err)
		return
	}
	w.logger.LogAttrs(ctx, slog.LevelInfo, "oauth: login", slog.String("appid", a.AppID),
		slog.String("openid", tok.OpenID), slog.String("scope", string(scope)))
	http.Redirect(rw, r, ret, http.StatusFound)
}

// maxReturnLen caps a return target.
const maxReturnLen = 2048

// checkReturn accepts a return target that cannot send the browser to
// another site: a relative path that starts with "/" but not "//" (a
// scheme-relative URL), or an absolute http(s) URL without user info whose
// host is public_url's or in oauth.allowed_return_hosts. Backslashes,
// control characters and spaces are refused anywhere, since browsers
// rewrite "\" to "/" and drop tabs and newlines ("/\evil", "/\t/evil").
func (w *webState) checkReturn(ret string) error {
	if ret == "" || len(ret) > maxReturnLen {
		return errors.New("must be 1 to 2048 bytes")
	}
	for i := 0; i < len(ret); i++ {
		if c := ret[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return errors.New("contains a backslash, a space or a control character")
		}
	}
	if ret[0] == '/' {
		if len(ret) > 1 && ret[1] == '/' {
			return errors.New("scheme-relative URLs (//host) are not allowed")
		}
		u, err := url.Parse(ret)
		if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" {
			return errors.New("not a valid path")
		}
		return nil
	}
	u, err := url.Parse(ret)
	if err != nil || !u.IsAbs() {
		return errors.New("must be a path starting with / or an absolute http(s) URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return errors.New("must be a path starting with / or an absolute http(s) URL")
	}
	if u.User != nil {
		return errors.New("user info in the URL is not allowed")
	}
	if !hostAllowed(w.returnHosts, u) {
		return fmt.Errorf("host %q is not in oauth.allowed_return_hosts", u.Host)
	}
	return nil
}
