package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/miniprogram"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/token"
)

// Mini Program login: the gateway's side of wx.login, wx.getUserInfo and
// the getPhoneNumber button, for the apps of type miniprogram:
//
//	POST /wxa/{appid}/login    {"code"} → {"token","openid","unionid","expires_in","is_new"}
//	POST /wxa/{appid}/profile  {"encrypted_data","iv","raw_data","signature"} → the user (store.User)
//	POST /wxa/{appid}/phone    {"code"} → {"phone_number","pure_phone_number","country_code"}
//
// profile and phone take Authorization: Bearer <token>, the token of
// login, which GET /api/me and the pay routes (POST /pay/orders …) take
// too. A refused request is answered with {"error","request_id"} and
// changes nothing: 400 a bad body, code, iv, signature or decryption, or
// an app that is not a Mini Program; 401 a missing, unknown or expired
// token, or one of another app; 403 a user WeChat blocks (40226); 404 an
// unknown app; 413 a body over limits.max_json_body_bytes; 429 WeChat's
// minute quota (45011); 502 WeChat did not answer.

// wxaWatermarkMaxAge is how far from now the watermark of decrypted
// profile data may be: WeChat stamps the data when wx.getUserInfo runs, so
// an old one is a replay.
const wxaWatermarkMaxAge = time.Hour

// wxaCallTimeout bounds one platform call made for a request.
const wxaCallTimeout = 10 * time.Second

// wxaState holds what the Mini Program routes share.
type wxaState struct {
	cfg      *Config
	logger   *slog.Logger
	now      func() time.Time
	sessions store.Sessions
	users    store.Users
	ttl      time.Duration                  // oauth.session_ttl
	clients  map[string]*miniprogram.Client // by AppID: the Mini Programs
}

// registerWXARoutes builds a miniprogram.Client for every Mini Program
// (sharing the gateway's cached access token, for getuserphonenumber) and
// registers the routes of Mini Program login. Called by buildRoutes.
func (g *Gateway) registerWXARoutes() error {
	w := &wxaState{cfg: g.cfg, logger: g.logger, now: g.now, sessions: g.stores.Sessions, users: g.stores.Users,
		ttl: time.Duration(g.cfg.OAuth.SessionTTL), clients: map[string]*miniprogram.Client{}}
	for i := range g.cfg.Apps {
		a := &g.cfg.Apps[i]
		if !a.IsMiniProgram() {
			continue
		}
		access, err := g.TokenSource(a.AppID, token.KindAccessToken)
		if err != nil {
			return fmt.Errorf("apps[%d]: %w", i, err)
		}
		c, err := miniprogram.NewClient(a.AppID, a.Secret, miniprogram.WithTokenSource(access),
			miniprogram.WithBaseURL(g.cfg.WeChat.APIBase), miniprogram.WithHTTPClient(g.client),
			miniprogram.WithLogger(g.logger.With(slog.String("appid", a.AppID))),
			miniprogram.WithAPIErrorHook(g.ops.metrics.apiError)) // metrics.go
		if err != nil {
			return fmt.Errorf("apps[%d]: %w", i, err)
		}
		w.clients[a.AppID] = c
	}
	g.mux.Handle("POST /wxa/{appid}/login", g.ops.limitOAuth("/wxa/{appid}/login", g.ops.limitJSON(w.serveLogin).ServeHTTP)) // ratelimit.go
	g.mux.Handle("POST /wxa/{appid}/profile", g.ops.limitJSON(w.serveProfile))
	g.mux.Handle("POST /wxa/{appid}/phone", g.ops.limitJSON(w.servePhone))
	return nil
}

// app returns the client of the path's Mini Program, or answers 404 (an
// unknown app) or 400 (not a Mini Program) and returns nil.
func (w *wxaState) app(rw http.ResponseWriter, r *http.Request) (string, *miniprogram.Client) {
	appID := r.PathValue("appid")
	if c := w.clients[appID]; c != nil {
		return appID, c
	}
	if w.cfg.App(appID) != nil {
		writeJSONError(rw, r, http.StatusBadRequest, "appid: "+appID+" is not a Mini Program (apps[].type: miniprogram)")
		return "", nil
	}
	writeJSONError(rw, r, http.StatusNotFound, "appid: not configured in this gateway")
	return "", nil
}

// session returns the session of the request's bearer token for appID
// and the token, or answers 401 and returns nil.
func (w *wxaState) session(rw http.ResponseWriter, r *http.Request, appID string) (*store.Session, string) {
	refuse := func(msg string) (*store.Session, string) {
		rw.Header().Set("WWW-Authenticate", `Bearer realm="wxkit", error="invalid_token"`)
		writeJSONError(rw, r, http.StatusUnauthorized, msg)
		return nil, ""
	}
	if r.Header.Get("Authorization") == "" {
		rw.Header().Set("WWW-Authenticate", `Bearer realm="wxkit"`)
		writeJSONError(rw, r, http.StatusUnauthorized, "Authorization: Bearer <token> required (the token of POST /wxa/{appid}/login)")
		return nil, ""
	}
	id := sessionID(r) // session.go
	if id == "" {
		return refuse("Authorization: must be Bearer <token>")
	}
	s, err := w.sessions.Session(r.Context(), id, w.now())
	if errors.Is(err, store.ErrNotFound) {
		return refuse("token: unknown or expired; log in again (wx.login, POST /wxa/{appid}/login)")
	}
	if err != nil {
		w.fail(rw, r, "wxa: session lookup failed", err)
		return nil, ""
	}
	if s.AppID != appID {
		return refuse("token: not a session of this Mini Program")
	}
	return s, id
}

// fail logs err and answers 503 (a store that failed).
func (w *wxaState) fail(rw http.ResponseWriter, r *http.Request, msg string, err error) {
	w.logger.LogAttrs(r.Context(), slog.LevelError, msg, slog.String("error", err.Error()))
	writeJSONError(rw, r, http.StatusServiceUnavailable, "the session store is unavailable; try again")
}

// platformFailed answers a failed call of the platform (jscode2session,
// getuserphonenumber) and logs it; WeChat's errors carry no secret (the
// path, never the query with the code or the AppSecret).
func (w *wxaState) platformFailed(rw http.ResponseWriter, r *http.Request, appID, call string, err error) {
	status, msg := http.StatusBadGateway, "WeChat did not answer; try again"
	switch {
	case errors.Is(err, wxkit.ErrCodeBeenUsed):
		status, msg = http.StatusBadRequest, "code: already used (40163); call "+call+" again for a new one"
	case errors.Is(err, wxkit.ErrInvalidCode):
		status, msg = http.StatusBadRequest, "code: invalid or expired (40029); call "+call+" again for a new one"
	case errors.Is(err, miniprogram.ErrInvalidRequest):
		status, msg = http.StatusBadRequest, "code: required"
	case errors.Is(err, miniprogram.ErrRiskyUser):
		status, msg = http.StatusForbidden, "WeChat blocks the login of this user (40226)"
	case errors.Is(err, wxkit.ErrAPIMinuteQuota):
		status, msg = http.StatusTooManyRequests, "too many logins of this user this minute (45011); try again later"
	case errors.Is(err, miniprogram.ErrWatermarkAppID):
		msg = "WeChat answered with another Mini Program's data"
	default:
		if e, ok := errors.AsType[*wxkit.APIError](err); ok {
			msg = fmt.Sprintf("WeChat refused the call: errcode %d", e.ErrCode)
		}
	}
	level := slog.LevelWarn
	if status == http.StatusBadGateway {
		level = slog.LevelError
	}
	w.logger.LogAttrs(r.Context(), level, "wxa: "+call+" failed", slog.String("appid", appID), slog.String("error", err.Error()))
	writeJSONError(rw, r, status, msg)
}

// codeRequest is the body of login and phone.
type codeRequest struct {
	Code string `json:"code"`
}

// maxWXACode caps a code (WeChat's are 32 characters).
const maxWXACode = 128

// readCode decodes a codeRequest, or answers 400 and returns "".
func readCode(rw http.ResponseWriter, r *http.Request) string {
	var req codeRequest
	if err := decodeJSON(r, &req); err != nil {
		writeJSONError(rw, r, http.StatusBadRequest, err.Error())
		return ""
	}
	if req.Code == "" || len(req.Code) > maxWXACode {
		writeJSONError(rw, r, http.StatusBadRequest, fmt.Sprintf("code: required, at most %d bytes", maxWXACode))
		return ""
	}
	return req.Code
}

// LoginResult is the answer of POST /wxa/{appid}/login: Token is the
// session's bearer token (43 characters, base64url of 32 random bytes),
// valid ExpiresIn seconds (oauth.session_ttl); IsNew is true at the user's
// first login. The session_key stays with the gateway.
type LoginResult struct {
	Token     string `json:"token"`
	OpenID    string `json:"openid"`
	UnionID   string `json:"unionid"`
	ExpiresIn int64  `json:"expires_in"`
	IsNew     bool   `json:"is_new"`
}

// serveLogin serves POST /wxa/{appid}/login {"code"}: it exchanges the
// code of wx.login with jscode2session, upserts the user, stores a new
// session (its session_key sealed, see wxa_seal.go) under a fresh random
// token and answers 200 with a LoginResult. A used code is refused 400
// (40163), as is an invalid one (40029).
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
func (w *wxaState) serveLogin(rw http.ResponseWriter, r *http.Request) {
	appID, c := w.app(rw, r)
	if c == nil {
		return
	}
	code := readCode(rw, r)
	if code == "" {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), wxaCallTimeout)
	defer cancel()
	ws, err := c.Code2Session(ctx, code)
	if err != nil {
		w.platformFailed(rw, r, appID, "wx.login", err)
		return
	}
	now := w.now()
	_, err = w.users.User(r.Context(), appID, ws.OpenID)
	isNew := errors.Is(err, store.ErrNotFound)
	if err != nil && !isNew {
		w.fail(rw, r, "wxa: user lookup failed", err)
		return
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		w.fail(rw, r, "wxa: drawing a token failed", err)
		return
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	sealed, err := sealSessionKey(tok, appID, ws.OpenID, string(ws.SessionKey))
	if err != nil {
		w.fail(rw, r, "wxa: sealing the session_key failed", err)
		return
	}
	u, err := w.users.UpsertUser(r.Context(), &store.User{AppID: appID, OpenID: ws.OpenID, UnionID: ws.UnionID}, false, now)
	if err != nil {
		w.fail(rw, r, "wxa: storing the user failed", err)
		return
	}
	sess := &store.Session{AppID: appID, OpenID: ws.OpenID, Created: now, Expires: now.Add(w.ttl), User: u, SealedSessionKey: sealed}
	if err := w.sessions.CreateSession(r.Context(), tok, sess); err != nil {
		w.fail(rw, r, "wxa: storing the session failed", err)
		return
	}
	w.logger.LogAttrs(r.Context(), slog.LevelInfo, "wxa: login", slog.String("appid", appID),
		slog.String("openid", ws.OpenID), slog.Bool("is_new", isNew))
	writeJSON(rw, http.StatusOK, LoginResult{Token: tok, OpenID: ws.OpenID, UnionID: u.UnionID,
		ExpiresIn: int64(w.ttl / time.Second), IsNew: isNew})
}

// profileRequest is the body of POST /wxa/{appid}/profile: what
// wx.getUserInfo (or getUserProfile) gave the Mini Program.
type profileRequest struct {
	EncryptedData string `json:"encrypted_data"`
	IV            string `json:"iv"`
	RawData       string `json:"raw_data"`
	Signature     string `json:"signature"`
}

// serveProfile serves POST /wxa/{appid}/profile {"encrypted_data", "iv",
// "raw_data", "signature"} with the bearer token of login: it checks
// signature = sha1(raw_data + session_key) (in constant time), decrypts
// encrypted_data with the session's session_key (AES-128-CBC), checks that
// its watermark names this Mini Program and is at most an hour old and
// that it is the session's user, then stores the profile (nickName →
// nickname, avatarUrl → headimgurl, gender → sex, city, province,
// country, unionId) and answers 200 with the user (store.User).
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
func (w *wxaState) serveProfile(rw http.ResponseWriter, r *http.Request) {
	appID, c := w.app(rw, r)
	if c == nil {
		return
	}
	sess, tok := w.session(rw, r, appID)
	if sess == nil {
		return
	}
	var req profileRequest
	if err := decodeJSON(r, &req); err != nil {
		writeJSONError(rw, r, http.StatusBadRequest, err.Error())
		return
	}
	for _, f := range []struct{ name, v string }{{"encrypted_data", req.EncryptedData}, {"iv", req.IV},
		{"raw_data", req.RawData}, {"signature", req.Signature}} {
		if f.v == "" {
			writeJSONError(rw, r, http.StatusBadRequest, f.name+": required")
			return
		}
	}
	if len(sess.SealedSessionKey) == 0 {
		writeJSONError(rw, r, http.StatusUnauthorized, "token: not a Mini Program login session (no session_key); log in with POST /wxa/{appid}/login")
		return
	}
	key, err := openSessionKey(tok, sess.AppID, sess.OpenID, sess.SealedSessionKey)
	if err != nil {
		w.logger.LogAttrs(r.Context(), slog.LevelError, "wxa: profile: the stored session_key does not open",
			slog.String("appid", appID), slog.String("openid", sess.OpenID))
		writeJSONError(rw, r, http.StatusUnauthorized, "token: the session is damaged; log in again")
		return
	}
	if err := miniprogram.CheckRawDataSignature(req.RawData, req.Signature, key); err != nil {
		w.refuseProfile(rw, r, appID, sess, "signature: does not match sha1(raw_data + session_key)")
		return
	}
	info, err := miniprogram.DecryptUserInfo(appID, key, req.EncryptedData, req.IV, w.now(), wxaWatermarkMaxAge)
	if err != nil {
		msg := "encrypted_data: does not decrypt with this session's key (wrong iv, tampered data, or data of another login)"
		switch {
		case errors.Is(err, miniprogram.ErrInvalidIV):
			msg = "iv: must be the base64 of 16 bytes"
		case errors.Is(err, miniprogram.ErrInvalidEncryptedData):
			msg = "encrypted_data: not base64 of whole AES blocks"
		case errors.Is(err, miniprogram.ErrWatermarkAppID):
			msg = "encrypted_data: its watermark names another Mini Program"
		case errors.Is(err, miniprogram.ErrWatermarkStale):
			msg = "encrypted_data: its watermark is more than an hour from now; call wx.getUserInfo again"
		}
		w.refuseProfile(rw, r, appID, sess, msg)
		return
	}
	if info.OpenID != "" && info.OpenID != sess.OpenID {
		w.refuseProfile(rw, r, appID, sess, "encrypted_data: the profile of another user")
		return
	}
	u := &store.User{AppID: appID, OpenID: sess.OpenID, UnionID: info.UnionID, Nickname: info.NickName,
		HeadImgURL: info.AvatarURL, Sex: info.Gender, City: info.City, Province: info.Province, Country: info.Country}
	su, err := w.users.UpsertUser(r.Context(), u, true, w.now())
	if err != nil {
		w.fail(rw, r, "wxa: storing the profile failed", err)
		return
	}
	w.logger.LogAttrs(r.Context(), slog.LevelInfo, "wxa: profile", slog.String("appid", appID), slog.String("openid", sess.OpenID))
	writeJSON(rw, http.StatusOK, su)
}

// refuseProfile logs and answers a profile refused (400).
func (w *wxaState) refuseProfile(rw http.ResponseWriter, r *http.Request, appID string, sess *store.Session, msg string) {
	w.logger.LogAttrs(r.Context(), slog.LevelWarn, "wxa: profile refused", slog.String("appid", appID),
		slog.String("openid", sess.OpenID), slog.String("reason", msg))
	writeJSONError(rw, r, http.StatusBadRequest, msg)
}

// PhoneResult is the answer of POST /wxa/{appid}/phone: the user's number
// as WeChat gives it (phone_info of getuserphonenumber): PhoneNumber with
// its country code for numbers outside mainland China, PurePhoneNumber
// without, CountryCode ("86").
type PhoneResult struct {
	PhoneNumber     string `json:"phone_number"`
	PurePhoneNumber string `json:"pure_phone_number"`
	CountryCode     string `json:"country_code"`
}

// servePhone serves POST /wxa/{appid}/phone {"code"} with the bearer
// token of login: it exchanges the code of the getPhoneNumber button with
// wxa/business/getuserphonenumber, stores the number on the session's user
// (store.User.PhoneNumber) and answers 200 with a PhoneResult. An invalid
// or used code is refused 400.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/phone-number/getPhoneNumber.html
func (w *wxaState) servePhone(rw http.ResponseWriter, r *http.Request) {
	appID, c := w.app(rw, r)
	if c == nil {
		return
	}
	sess, _ := w.session(rw, r, appID)
	if sess == nil {
		return
	}
	code := readCode(rw, r)
	if code == "" {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), wxaCallTimeout)
	defer cancel()
	p, err := c.PhoneNumber(ctx, code)
	if err != nil {
		w.platformFailed(rw, r, appID, "getPhoneNumber", err)
		return
	}
	u := &store.User{AppID: appID, OpenID: sess.OpenID, PhoneNumber: p.PhoneNumber}
	if _, err := w.users.UpsertUser(r.Context(), u, false, w.now()); err != nil {
		w.fail(rw, r, "wxa: storing the phone number failed", err)
		return
	}
	w.logger.LogAttrs(r.Context(), slog.LevelInfo, "wxa: phone number", slog.String("appid", appID), slog.String("openid", sess.OpenID))
	writeJSON(rw, http.StatusOK, PhoneResult{PhoneNumber: p.PhoneNumber, PurePhoneNumber: p.PurePhoneNumber,
		CountryCode: string(p.CountryCode)})
}
