package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/wxkit/wxkit/store"
)

// SessionCookie is the name of the web-login session cookie. Its value is
// 32 random bytes (base64url); the server keeps only their SHA-256.
const SessionCookie = "wxkit_session"

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

// session returns the session of r's cookie, or nil when there is none or
// it has expired.
func (w *webState) session(r *http.Request) (*store.Session, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil, nil
	}
	s, err := w.sessions.Session(r.Context(), c.Value, w.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return s, err
}

// serveMe serves GET /api/me: the logged-in user as JSON (store.User:
// appid, openid, unionid, nickname, headimgurl, sex, city, province,
// country, first_seen, last_seen), or 401 {"error":...} without a valid
// session. The user is read from the user store; when it does not know the
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
