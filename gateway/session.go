package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/wxkit/wxkit/store"
)

// SessionCookie is the name of the web-login session cookie. Its value is
// 32 random bytes (base64url); the server keeps only their SHA-256.
const SessionCookie = "wxkit_session"

// LoginCookie names the cookies that bind a login to the browser that
// started it (login CSRF: without them, a victim who opens an attacker's
// unfinished callback URL would be signed in as the attacker).
//
// /oauth/login sets one per login, named LoginCookie + "_" + 8 characters
// taken from the state's nonce, so that logins started in several tabs of
// one browser each keep their own, and prefixed "__Host-" when public_url is
// https (a cookie only the gateway's own origin can set, over https, for
// Path=/: a sibling subdomain or a network attacker cannot plant one). Its
// value is the 16-byte browser secret (base64url) whose hash is the state's
// nonce (state.go); it is HttpOnly, SameSite=Lax (sent on WeChat's
// top-level redirect back), Secure on https, and lives oauth.state_ttl.
// The callback refuses (400) a state whose cookie is missing or holds
// another secret, comparing in constant time, and clears the cookie.
const LoginCookie = "wxkit_login"

// loginCookieName returns the name of the login cookie of nonce.
func (w *webState) loginCookieName(nonce *[stateNonceLen]byte) string {
	name := LoginCookie + "_" + base64.RawURLEncoding.EncodeToString(nonce[:6])
	if w.secure {
		name = "__Host-" + name
	}
	return name
}

// setLoginCookie gives the browser the secret of st.
func (w *webState) setLoginCookie(rw http.ResponseWriter, st *loginState) {
	http.SetCookie(rw, &http.Cookie{
		Name:     w.loginCookieName(&st.Nonce),
		Value:    base64.RawURLEncoding.EncodeToString(st.Secret[:]),
		Path:     "/",
		MaxAge:   int(time.Duration(w.cfg.OAuth.StateTTL) / time.Second),
		HttpOnly: true,
		Secure:   w.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// checkLoginCookie reports why r's browser did not start the login of st,
// or "" when it did; a cookie found is cleared.
func (w *webState) checkLoginCookie(rw http.ResponseWriter, r *http.Request, st *loginState) string {
	name := w.loginCookieName(&st.Nonce)
	c, err := r.Cookie(name)
	if err != nil {
		return "login cookie missing: the login was started in another browser"
	}
	http.SetCookie(rw, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: w.secure, SameSite: http.SameSiteLaxMode})
	if !st.boundTo(c.Value) {
		return "login cookie does not match the state"
	}
	return ""
}

// startSession stores a new session for user u and sets its cookie:
// HttpOnly, SameSite=Lax, Path=/, Secure when public_url is https, Max-Age
// oauth.session_ttl. A login always gets a new id, so that an id planted
// before the login (session fixation) is worth nothing.
func (w *webState) startSession(rw http.ResponseWriter, r *http.Request, u *store.User, now time.Time) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	ttl := time.Duration(w.cfg.OAuth.SessionTTL)
	sess := &store.Session{AppID: u.AppID, OpenID: u.OpenID, Created: now, Expires: now.Add(ttl), User: u}
	if err := w.sessions.CreateSession(r.Context(), id, sess); err != nil {
		return err
	}
	if old, err := r.Cookie(SessionCookie); err == nil && old.Value != "" {
		w.sessions.DeleteSession(r.Context(), old.Value)
	}
	http.SetCookie(rw, &http.Cookie{
		Name:     SessionCookie,
		Value:    id,
		Path:     "/",
		MaxAge:   int(ttl / time.Second),
		HttpOnly: true,
		Secure:   w.secure,
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// sessionID returns the session token of r: the bearer token of
// Authorization (Mini Program login, see wxa.go), else the session
// cookie (web login); "" when there is none, or Authorization has another
// scheme.
func sessionID(r *http.Request) string {
	var id string
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return ""
		}
		id = strings.TrimSpace(tok)
	} else if c, err := r.Cookie(SessionCookie); err == nil {
		id = c.Value
	}
	if len(id) > 128 {
		return ""
	}
	return id
}

// session returns the session of r's bearer token or cookie (sessionID),
// or nil when there is none or it has expired.
func (w *webState) session(r *http.Request) (*store.Session, error) {
	id := sessionID(r)
	if id == "" {
		return nil, nil
	}
	s, err := w.sessions.Session(r.Context(), id, w.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return s, err
}

// serveMe serves GET /api/me: the logged-in user as JSON (store.User:
// appid, openid, unionid, nickname, headimgurl, sex, city, province,
// country, phone_number, first_seen, last_seen), or 401 {"error":...}
// without a valid session: the session cookie of web login, or
// Authorization: Bearer <token> of Mini Program login. The user is read from the user store; when it does not know the
// user (gateways that share sessions in Redis but keep users in separate
// databases), the copy kept with the session at login answers.
func (w *webState) serveMe(rw http.ResponseWriter, r *http.Request) {
	s, err := w.session(r)
	if err != nil {
		w.fail(rw, r, "session: lookup failed", err)
		return
	}
	if s == nil {
		writeJSON(rw, http.StatusUnauthorized, webError{"not logged in"})
		return
	}
	u, err := w.users.User(r.Context(), s.AppID, s.OpenID)
	if errors.Is(err, store.ErrNotFound) {
		if s.User != nil && s.User.AppID == s.AppID && s.User.OpenID == s.OpenID {
			writeJSON(rw, http.StatusOK, s.User)
			return
		}
		writeJSON(rw, http.StatusUnauthorized, webError{"not logged in"})
		return
	}
	if err != nil {
		w.fail(rw, r, "session: user lookup failed", err)
		return
	}
	writeJSON(rw, http.StatusOK, u)
}

// serveLogout serves POST /oauth/logout: it deletes the session and
// expires the cookie (204). POST only, so that a link cannot log a user
// out; the SameSite=Lax cookie is not sent on cross-site POSTs.
func (w *webState) serveLogout(rw http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := w.sessions.DeleteSession(r.Context(), c.Value); err != nil {
			w.logger.LogAttrs(r.Context(), slog.LevelError, "session: logout failed", slog.String("error", err.Error()))
		}
	}
	http.SetCookie(rw, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: w.secure, SameSite: http.SameSiteLaxMode})
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(http.StatusNoContent)
}
