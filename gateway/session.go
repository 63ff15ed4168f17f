package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	redisstore "github.com/wxkit/wxkit/store/redis"
	"github.com/wxkit/wxkit/store/sqlite"
)

// SessionCookie is the name of the web-login session cookie. Its value is
// 32 random bytes (base64url); the server keeps only their SHA-256.
const SessionCookie = "wxkit_session"

// webSession is a login session as the gateway's session stores keep it.
// User is the user as stored at the login that started the session: the
// Redis store keeps it with the session, so that every gateway sharing the
// Redis can answer /api/me although users stay in each gateway's own SQLite
// file; the SQLite store does not keep it (nil on Get), and /api/me reads
// the user table instead.
type webSession struct {
	AppID   string
	OpenID  string
	Created time.Time
	Expires time.Time
	User    *sqlite.User
}

// sessionStore keeps login sessions under the session id (the cookie
// value); implementations store only its SHA-256. now is the caller's clock.
type sessionStore interface {
	// Create stores s under id.
	Create(ctx context.Context, id string, s webSession, now time.Time) error
	// Get returns the session of id, or nil and no error when it is
	// unknown or expired at now.
	Get(ctx context.Context, id string, now time.Time) (*webSession, error)
	// Delete removes the session of id; an unknown id is not an error.
	Delete(ctx context.Context, id string) error
}

// sqliteSessions is a sessionStore in the gateway's SQLite file (one
// instance, or instances that do not share sessions).
type sqliteSessions struct{ s *sqlite.SessionStore }

func (st sqliteSessions) Create(ctx context.Context, id string, s webSession, now time.Time) error {
	return st.s.Create(ctx, id, sqlite.Session{AppID: s.AppID, OpenID: s.OpenID, Created: s.Created, Expires: s.Expires}, now)
}

func (st sqliteSessions) Get(ctx context.Context, id string, now time.Time) (*webSession, error) {
	s, err := st.s.Get(ctx, id, now)
	if errors.Is(err, sqlite.ErrSessionNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &webSession{AppID: s.AppID, OpenID: s.OpenID, Created: s.Created, Expires: s.Expires}, nil
}

func (st sqliteSessions) Delete(ctx context.Context, id string) error { return st.s.Delete(ctx, id) }

// redisSessions is a sessionStore in Redis, shared by every gateway on the
// same Redis and key prefix; it keeps webSession.User as JSON with the
// session.
type redisSessions struct{ s *redisstore.SessionStore }

func (st redisSessions) Create(ctx context.Context, id string, s webSession, now time.Time) error {
	rs := redisstore.Session{AppID: s.AppID, OpenID: s.OpenID, Created: s.Created, Expires: s.Expires}
	if s.User != nil {
		b, err := json.Marshal(s.User)
		if err != nil {
			return err
		}
		rs.User = b
	}
	return st.s.Create(ctx, id, rs, now)
}

func (st redisSessions) Get(ctx context.Context, id string, now time.Time) (*webSession, error) {
	rs, err := st.s.Get(ctx, id, now)
	if errors.Is(err, redisstore.ErrSessionNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s := &webSession{AppID: rs.AppID, OpenID: rs.OpenID, Created: rs.Created, Expires: rs.Expires}
	if len(rs.User) > 0 {
		var u sqlite.User
		if err := json.Unmarshal(rs.User, &u); err != nil {
			return nil, errors.New("session: the stored user is not valid JSON")
		}
		s.User = &u
	}
	return s, nil
}

func (st redisSessions) Delete(ctx context.Context, id string) error { return st.s.Delete(ctx, id) }

// startSession stores a new session for user u and sets its cookie:
// HttpOnly, SameSite=Lax, Path=/, Secure when public_url is https, Max-Age
// oauth.session_ttl. A login always gets a new id, so that an id planted
// before the login (session fixation) is worth nothing.
func (w *webState) startSession(rw http.ResponseWriter, r *http.Request, u *sqlite.User, now time.Time) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	ttl := time.Duration(w.cfg.OAuth.SessionTTL)
	sess := webSession{AppID: u.AppID, OpenID: u.OpenID, Created: now, Expires: now.Add(ttl), User: u}
	if err := w.sessions.Create(r.Context(), id, sess, now); err != nil {
		return err
	}
	if old, err := r.Cookie(SessionCookie); err == nil && old.Value != "" {
		w.sessions.Delete(r.Context(), old.Value)
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
func (w *webState) session(r *http.Request) (*webSession, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil, nil
	}
	return w.sessions.Get(r.Context(), c.Value, w.now())
}

// serveMe serves GET /api/me: the logged-in user as JSON (sqlite.User:
// appid, openid, unionid, nickname, headimgurl, sex, city, province,
// country, first_seen, last_seen), or 401 {"error":...} without a valid
// session. With sessions in Redis the user is the one kept with the
// session (as stored at its login, by whichever gateway completed it);
// otherwise it is read from the user table.
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
	if s.User != nil && s.User.AppID == s.AppID && s.User.OpenID == s.OpenID {
		writeJSON(rw, http.StatusOK, s.User)
		return
	}
	u, err := w.users.Get(r.Context(), s.AppID, s.OpenID)
	if errors.Is(err, sqlite.ErrUserNotFound) {
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
		if err := w.sessions.Delete(r.Context(), c.Value); err != nil {
			w.logger.LogAttrs(r.Context(), slog.LevelError, "session: logout failed", slog.String("error", err.Error()))
		}
	}
	http.SetCookie(rw, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: w.secure, SameSite: http.SameSiteLaxMode})
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(http.StatusNoContent)
}
