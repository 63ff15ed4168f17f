package emulator

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wxkit/wxkit"
)

// Lifetimes of Mini Program login.
const (
	// WXLoginCodeLifetime is how long a wx.login code stays exchangeable.
	WXLoginCodeLifetime = 5 * time.Minute
	// WXPhoneCodeLifetime is how long a getPhoneNumber code stays usable.
	WXPhoneCodeLifetime = 5 * time.Minute
)

// Errors of the simulated Mini Program client (WXLogin, WXGetUserInfo,
// WXGetPhoneNumber, WXRequestSubscribeMessage).
var (
	// ErrNotMiniProgram: the app is an Official Account.
	ErrNotMiniProgram = errors.New("emulator: app is not a Mini Program")
	// ErrNoSession: the user has not logged in (WXLogin) yet.
	ErrNoSession = errors.New("emulator: the user has no session: call wx.login first")
)

func init() {
	handle("/sns/jscode2session", (*Emulator).serveJSCode2Session)
	handle("/wxa/checksession", (*Emulator).serveCheckSession)
}

// wxaErrMsgs are the errmsg texts of the Mini Program APIs.
var wxaErrMsgs = map[int]string{
	40169: "invalid length for scene, or the data is not json string",
	41030: "invalid page",
	43101: "user refuse to accept the msg",
	87009: "invalid signature",
}

// wxaErr returns the *wxkit.APIError of a Mini Program API errcode.
func wxaErr(code int) *wxkit.APIError {
	if m, ok := wxaErrMsgs[code]; ok {
		return &wxkit.APIError{ErrCode: code, ErrMsg: m}
	}
	return mpErr(code)
}

// wxaState is the Mini Program state of one app, reached with wxaOf and
// guarded by its own mutex (a.mu is never taken while it is held).
type wxaState struct {
	mu sync.Mutex
	// codes are the wx.login codes by value.
	codes map[string]*wxaLoginCode
	// sessions are the users' current session_keys by openid.
	sessions map[string]string
	// phoneCodes are the getPhoneNumber codes by value.
	phoneCodes map[string]*wxaPhoneCode
	// minutes count calls per minute by key ("jscode2session:"+openid,
	// "wxacode").
	minutes map[string]*minuteCounter
	// accepted counts the subscription messages each user accepted, by
	// openid then template id: one message may be sent per acceptance.
	accepted map[string]map[string]int
}

// wxaLoginCode is one wx.login code.
type wxaLoginCode struct {
	openID     string
	sessionKey string
	expires    time.Time
	used       bool
}

// wxaPhoneCode is one getPhoneNumber code.
type wxaPhoneCode struct {
	openID  string
	at      time.Time
	expires time.Time
	used    bool
}

// minuteCounter counts calls within one minute.
type minuteCounter struct {
	minute int64
	n      int
}

// takeMinute counts a call of key in now's minute and reports whether it is
// allowed (false once limit calls were made in that minute).
func takeMinute(m map[string]*minuteCounter, key string, limit int, now time.Time) bool {
	minute := now.Unix() / 60
	c := m[key]
	if c == nil {
		c = &minuteCounter{}
		m[key] = c
	}
	if c.minute != minute {
		c.minute, c.n = minute, 0
	}
	if limit > 0 && c.n >= limit {
		return false
	}
	c.n++
	return true
}

// wxaOf returns the Mini Program state of a, creating it on first use.
func wxaOf(a *app) *wxaState {
	st := appExt[wxaState](a, "wxa")
	st.mu.Lock()
	if st.codes == nil {
		st.codes = make(map[string]*wxaLoginCode)
		st.sessions = make(map[string]string)
		st.phoneCodes = make(map[string]*wxaPhoneCode)
		st.minutes = make(map[string]*minuteCounter)
		st.accepted = make(map[string]map[string]int)
	}
	st.mu.Unlock()
	return st
}

// miniProgramUser returns the Mini Program appID and its user openID (the
// first user when openID is empty), or ErrUnknownApp, ErrNotMiniProgram or
// ErrUnknownUser.
func (e *Emulator) miniProgramUser(appID, openID string) (*app, *user, error) {
	a := e.app(appID)
	if a == nil {
		return nil, nil, fmt.Errorf("%w: %q", ErrUnknownApp, appID)
	}
	if a.cfg.Type != AppTypeMiniProgram {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotMiniProgram, appID)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var u *user
	if openID == "" {
		if len(a.users) > 0 {
			u = a.users[0]
		}
	} else {
		u = a.user(openID)
	}
	if u == nil {
		return nil, nil, fmt.Errorf("%w: %q of app %s", ErrUnknownUser, openID, appID)
	}
	return a, u, nil
}

// newSessionKey returns a session_key: 16 random bytes in base64.
func newSessionKey() string {
	var k [16]byte
	_, _ = rand.Read(k[:])
	return base64.StdEncoding.EncodeToString(k[:])
}

// WXLogin simulates wx.login in the Mini Program appID for the user openID
// (its first user when empty): the user gets a new session_key (the one
// before it stops being valid, as on the platform) and the Mini Program a
// code to exchange with sns/jscode2session, single use and valid for
// WXLoginCodeLifetime. Errors: ErrUnknownApp, ErrNotMiniProgram,
// ErrUnknownUser.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/api/open-api/login/wx.login.html
func (e *Emulator) WXLogin(appID, openID string) (string, error) {
	a, u, err := e.miniProgramUser(appID, openID)
	if err != nil {
		return "", err
	}
	now := e.Now()
	code := "0" + randomString(31, oauthCodeAlphabet)
	st := wxaOf(a)
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.codes) > 1024 {
		for k, c := range st.codes {
			if now.After(c.expires.Add(time.Hour)) {
				delete(st.codes, k)
			}
		}
	}
	key := newSessionKey()
	st.sessions[u.OpenID] = key
	st.codes[code] = &wxaLoginCode{openID: u.OpenID, sessionKey: key, expires: now.Add(WXLoginCodeLifetime)}
	return code, nil
}

// sessionKey returns the current session_key of openID, "" when the user
// has not logged in.
func (st *wxaState) sessionKey(openID string) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.sessions[openID]
}

// jscode2sessionReply is the answer of sns/jscode2session, with
// errcode 0 and errmsg "ok" as in the current documentation.
type jscode2sessionReply struct {
	SessionKey string `json:"session_key"`
	OpenID     string `json:"openid"`
	UnionID    string `json:"unionid,omitempty"`
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
}

// serveJSCode2Session serves GET /sns/jscode2session?appid&secret&js_code&
// grant_type=authorization_code. Errors, in order: 41002 appid and 41004
// secret missing, 40013 an appid that is not a hosted Mini Program, 40125
// a wrong secret, 41008 js_code missing, 40002 grant_type not
// authorization_code, 40029 an unknown code, 45011 over
// Limits.JSCode2SessionPerMinute (100) calls for the code's user in this
// minute (the code is not spent), 40163 a code already used, 40029 an
// expired code (older than 5 minutes). The answer carries the session_key
// of the login that made the code, the openid and, when the user has one,
// the unionid.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
func (e *Emulator) serveJSCode2Session(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	appID, secret, code := q.Get("appid"), q.Get("secret"), q.Get("js_code")
	switch {
	case appID == "":
		e.writeErr(w, 41002)
		return
	case secret == "":
		e.writeErr(w, 41004)
		return
	}
	a := e.app(appID)
	if a == nil || a.cfg.Type != AppTypeMiniProgram {
		e.writeErr(w, 40013)
		return
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(a.cfg.Secret)) != 1 {
		e.writeErr(w, 40125)
		return
	}
	switch {
	case code == "":
		e.writeErr(w, 41008)
		return
	case q.Get("grant_type") != "authorization_code":
		e.writeErr(w, 40002)
		return
	}
	now := e.Now()
	st := wxaOf(a)
	st.mu.Lock()
	c := st.codes[code]
	var aerr *wxkit.APIError
	switch {
	case c == nil:
		aerr = apiErr(40029)
	case !takeMinute(st.minutes, "jscode2session:"+c.openID, e.cfg.Limits.JSCode2SessionPerMinute, now):
		aerr = apiErr(45011)
	case c.used:
		aerr = apiErr(40163)
	case !now.Before(c.expires):
		aerr = apiErr(40029)
	default:
		c.used = true
	}
	st.mu.Unlock()
	if aerr != nil {
		e.writeAPIError(w, aerr)
		return
	}
	a.mu.Lock()
	var unionID string
	if u := a.user(c.openID); u != nil {
		unionID = u.UnionID
	}
	a.mu.Unlock()
	writeJSON(w, jscode2sessionReply{SessionKey: c.sessionKey, OpenID: c.openID, UnionID: unionID, ErrMsg: "ok"})
}

// SessionSignature returns the user login-state signature
// hex(hmac_sha256(key = sessionKey, message = data)) that wxa/checksession
// (with data "") and other signed Mini Program APIs check. The key is the
// session_key text as jscode2session returned it, not its decoded bytes.
//
// WeChat docs: https://developers.weixin.qq.com/minigame/dev/guide/open-ability/http-signature.html
func SessionSignature(sessionKey, data string) string {
	m := hmac.New(sha256.New, []byte(sessionKey))
	m.Write([]byte(data))
	return hex.EncodeToString(m.Sum(nil))
}

// requireMiniProgram answers 48001 and returns false when a is not a Mini
// Program (the API is not open to Official Accounts).
func (e *Emulator) requireMiniProgram(w http.ResponseWriter, a *app) bool {
	if a.cfg.Type == AppTypeMiniProgram {
		return true
	}
	e.writeErrMsg(w, 48001, errMsg(48001)+": the account is not a Mini Program")
	return false
}

// serveCheckSession serves GET /wxa/checksession?access_token&openid&
// signature&sig_method=hmac_sha256 (the parameters may also come in a JSON
// body): it tells whether signature = SessionSignature(session_key, "")
// for the user's current session_key. Errors: the access_token errors,
// 48001 for an Official Account, 41009 openid missing, 40097 a sig_method
// other than hmac_sha256, 87009 a signature that does not match (or a user
// with no session, or one whose session_key a later wx.login replaced).
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/checkSessionKey.html
func (e *Emulator) serveCheckSession(w http.ResponseWriter, r *http.Request) {
	a, err := e.requireToken(r)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	if !e.requireMiniProgram(w, a) {
		return
	}
	q := r.URL.Query()
	p := struct {
		OpenID    string `json:"openid"`
		Signature string `json:"signature"`
		SigMethod string `json:"sig_method"`
	}{q.Get("openid"), q.Get("signature"), q.Get("sig_method")}
	if r.Method == http.MethodPost && p.OpenID == "" {
		if b, rerr := readBody(r); rerr == nil && len(b) > 0 {
			_ = json.Unmarshal(b, &p)
		}
	}
	switch {
	case p.OpenID == "":
		e.writeErr(w, 41009)
		return
	case p.SigMethod != "hmac_sha256":
		e.writeErr(w, 40097)
		return
	}
	key := wxaOf(a).sessionKey(p.OpenID)
	if key == "" || subtle.ConstantTimeCompare([]byte(strings.ToLower(p.Signature)), []byte(SessionSignature(key, ""))) != 1 {
		e.writeAPIError(w, wxaErr(87009))
		return
	}
	writeJSON(w, okBody)
}
