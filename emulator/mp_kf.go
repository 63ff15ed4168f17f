package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Limits of customer-service accounts (客服帐号) and sessions.
const (
	maxKfAccounts    = 100                // kfaccount/add: 65405 beyond
	maxKfNickRunes   = 16                 // nickname: 65403 beyond
	kfInviteLifetime = 7 * 24 * time.Hour // an invitation not accepted expires
	// kfForwardIdle is how long a session forwards the user's messages to
	// the worker after the last one (or the session's start); then they
	// go to the push URL again.
	kfForwardIdle = 30 * time.Minute
	firstKfID     = 1001
)

// Events of customer-service sessions, pushed to the account.
const (
	eventKfCreateSession EventType = "kf_create_session"
	eventKfCloseSession  EventType = "kf_close_session"
	eventKfSwitchSession EventType = "kf_switch_session"
)

var (
	// kfAccountRE is "prefix@wechatid": a prefix of at most 10 letters,
	// digits or underscores, and the account's WeChat ID (at most 30).
	kfAccountRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,10}@[A-Za-z0-9_-]{1,30}$`)
	// wechatIDRE is a WeChat ID (微信号): 6 to 20 letters, digits,
	// underscores or hyphens, starting with a letter.
	wechatIDRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{5,19}$`)
)

// KfAccount is a customer-service account of an app.
type KfAccount struct {
	Account  string `json:"kf_account"`
	Nickname string `json:"kf_nick"`
	// ID is the worker number (kf_id), a JSON number as the platform
	// sends it (its docs show a string).
	ID         int    `json:"kf_id"`
	HeadImgURL string `json:"kf_headimgurl"`
	// WX is the WeChat ID of the worker bound to the account ("" until an
	// invitation is accepted).
	WX string `json:"kf_wx,omitempty"`
	// InviteWX, InviteExpire and InviteStatus describe a pending or
	// refused invitation ("waiting", "rejected", "expired").
	InviteWX     string    `json:"invite_wx,omitempty"`
	InviteExpire time.Time `json:"invite_expire_time,omitzero"`
	InviteStatus string    `json:"invite_status,omitempty"`
	// Status is the worker's online status: 0 offline, 1 online on the web
	// client. A bound worker comes online when the invitation is accepted.
	Status int `json:"status"`

	headImg *kfHeadImg // set by kfaccount/uploadheadimg, served at HeadImgURL
}

// KfSession is a customer-service session between a worker and a user.
type KfSession struct {
	KfAccount string    `json:"kf_account"`
	OpenID    string    `json:"openid"`
	Created   time.Time `json:"created"`
	// Messages are what the user sent while the session was open, which
	// the platform forwarded to the worker instead of the push URL.
	Messages []ConversationEntry `json:"messages,omitempty"`

	lastActive time.Time // the start, or the last forwarded message
}

// kfState is the per-app customer-service state (guarded by app.mu).
type kfState struct {
	accounts []*KfAccount
	nextID   int
	sessions map[string]*KfSession // by openid
}

func init() {
	handle("/customservice/kfaccount/add", (*Emulator).serveKfAdd)
	handle("/customservice/kfaccount/update", (*Emulator).serveKfUpdate)
	handle("/customservice/kfaccount/del", (*Emulator).serveKfDelete)
	handle("/customservice/kfaccount/inviteworker", (*Emulator).serveKfInvite)
	handle("/cgi-bin/customservice/getkflist", (*Emulator).serveKfList)
	handle("/cgi-bin/customservice/getonlinekflist", (*Emulator).serveKfOnlineList)
	handle("/customservice/kfsession/create", (*Emulator).serveKfSessionCreate)
	handle("/customservice/kfsession/close", (*Emulator).serveKfSessionClose)
	handle("/customservice/kfsession/getsession", (*Emulator).serveKfSessionGet)
	handle("/customservice/kfsession/getsessionlist", (*Emulator).serveKfSessionList)
	handle("/customservice/kfsession/getwaitcase", (*Emulator).serveKfWaitCase)
}

// kfOf returns the customer-service state of a. a.mu must be held.
func kfOf(a *app) *kfState {
	st := appExt[kfState](a, "mp_kf")
	if st.sessions == nil {
		st.sessions = map[string]*KfSession{}
		st.nextID = firstKfID
	}
	return st
}

// account returns the account named name, or nil.
func (st *kfState) account(name string) *KfAccount {
	i := slices.IndexFunc(st.accounts, func(k *KfAccount) bool { return k.Account == name })
	if i < 0 {
		return nil
	}
	return st.accounts[i]
}

// refreshInvites marks invitations past their expiry. a.mu must be held.
func (st *kfState) refreshInvites(now time.Time) {
	for _, k := range st.accounts {
		if k.InviteStatus == "waiting" && !now.Before(k.InviteExpire) {
			k.InviteStatus = "expired"
		}
	}
}

// kfAllowed answers 48001 for accounts without the customer-service
// APIs: Mini Programs and unverified accounts.
func kfAllowed(a *app) error {
	if a.cfg.Type == AppTypeMiniProgram || a.cfg.Unverified {
		return apiErr(48001)
	}
	return nil
}

// kfCall is mpCall plus kfAllowed.
func (e *Emulator) kfCall(w http.ResponseWriter, r *http.Request, method string, v any) *app {
	a := e.mpCall(w, r, method, v)
	if a == nil {
		return nil
	}
	if err := kfAllowed(a); err != nil {
		e.writeAPIError(w, err)
		return nil
	}
	return a
}

// kfAccountRequest is the body of kfaccount/add and update.
type kfAccountRequest struct {
	KfAccount string `json:"kf_account"`
	Nickname  string `json:"nickname"`
	InviteWX  string `json:"invite_wx"`
}

// checkKfNick answers 65403 for an empty nickname or one over 16 characters.
func checkKfNick(nick string) error {
	if n := utf8.RuneCountInString(nick); n == 0 || n > maxKfNickRunes {
		return mpErr(65403)
	}
	return nil
}

// serveKfAdd serves POST /customservice/kfaccount/add {"kf_account":
// "prefix@wechatid","nickname"}. Errors: 65404 (kf_account not of the
// form prefix@wechatid, prefix ≤10 letters, digits or _), 65403
// (nickname empty or over 16 characters), 65406 (exists), 65405 (100
// accounts already), 48001 (unverified account).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (e *Emulator) serveKfAdd(w http.ResponseWriter, r *http.Request) {
	var req kfAccountRequest
	a := e.kfCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	if !kfAccountRE.MatchString(req.KfAccount) {
		e.writeAPIError(w, mpErr(65404))
		return
	}
	if err := checkKfNick(req.Nickname); err != nil {
		e.writeAPIError(w, err)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := kfOf(a)
	switch {
	case st.account(req.KfAccount) != nil:
		e.writeAPIError(w, mpErr(65406))
		return
	case len(st.accounts) >= maxKfAccounts:
		e.writeAPIError(w, mpErr(65405))
		return
	}
	id := st.nextID
	st.nextID++
	st.accounts = append(st.accounts, &KfAccount{
		Account: req.KfAccount, Nickname: req.Nickname, ID: id,
		HeadImgURL: "https://mmbiz.qpic.cn/mmbiz_jpg/kf" + strconv.Itoa(id) + "/0",
	})
	writeJSON(w, okBody)
}

// serveKfUpdate serves POST /customservice/kfaccount/update {"kf_account",
// "nickname"}. Errors: 65401 (no such account), 65403.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (e *Emulator) serveKfUpdate(w http.ResponseWriter, r *http.Request) {
	var req kfAccountRequest
	a := e.kfCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	k := kfOf(a).account(req.KfAccount)
	if k == nil {
		e.writeAPIError(w, mpErr(65401))
		return
	}
	if err := checkKfNick(req.Nickname); err != nil {
		e.writeAPIError(w, err)
		return
	}
	k.Nickname = req.Nickname
	writeJSON(w, okBody)
}

// serveKfDelete serves GET /customservice/kfaccount/del?kf_account= (a
// POST with {"kf_account"}, the older form, is served too). The account's
// open sessions end. Errors: 65401 (no such account).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (e *Emulator) serveKfDelete(w http.ResponseWriter, r *http.Request) {
	var req kfAccountRequest
	var a *app
	if r.Method == http.MethodPost {
		a = e.kfCall(w, r, http.MethodPost, &req)
	} else {
		a = e.kfCall(w, r, http.MethodGet, nil)
		req.KfAccount = r.URL.Query().Get("kf_account")
	}
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := kfOf(a)
	i := slices.IndexFunc(st.accounts, func(k *KfAccount) bool { return k.Account == req.KfAccount })
	if i < 0 {
		e.writeAPIError(w, mpErr(65401))
		return
	}
	st.accounts = slices.Delete(st.accounts, i, i+1)
	for id, s := range st.sessions {
		if s.KfAccount == req.KfAccount {
			delete(st.sessions, id)
		}
	}
	writeJSON(w, okBody)
}

// serveKfInvite serves POST /customservice/kfaccount/inviteworker
// {"kf_account","invite_wx"}: the WeChat user invite_wx is invited to
// work as the account (the invitation waits 7 days; accept it with
// Emulator.AcceptKfInvite). Errors: 65401 (no such account), 65409
// (invite_wx is not a WeChat ID), 65412 (the account has a worker),
// 65411 (an invitation for the account is waiting), 65407 (invite_wx
// already works for the app), 65408 (invite_wx is already invited by
// another account of the app).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (e *Emulator) serveKfInvite(w http.ResponseWriter, r *http.Request) {
	var req kfAccountRequest
	a := e.kfCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	st := kfOf(a)
	st.refreshInvites(now)
	k := st.account(req.KfAccount)
	if k == nil {
		e.writeAPIError(w, mpErr(65401))
		return
	}
	if !wechatIDRE.MatchString(req.InviteWX) {
		e.writeAPIError(w, mpErr(65409))
		return
	}
	switch {
	case k.WX != "":
		e.writeAPIError(w, mpErr(65412))
		return
	case k.InviteStatus == "waiting":
		e.writeAPIError(w, mpErr(65411))
		return
	}
	for _, o := range st.accounts {
		if o.WX == req.InviteWX {
			e.writeAPIError(w, mpErr(65407))
			return
		}
		if o.InviteStatus == "waiting" && o.InviteWX == req.InviteWX {
			e.writeAPIError(w, mpErr(65408))
			return
		}
	}
	k.InviteWX, k.InviteExpire, k.InviteStatus = req.InviteWX, now.Add(kfInviteLifetime), "waiting"
	writeJSON(w, okBody)
}

// kfListItem is an entry of getkflist.
type kfListItem struct {
	Account      string `json:"kf_account"`
	HeadImgURL   string `json:"kf_headimgurl"`
	ID           int    `json:"kf_id"`
	Nickname     string `json:"kf_nick"`
	WX           string `json:"kf_wx,omitempty"`
	InviteWX     string `json:"invite_wx,omitempty"`
	InviteExpire int64  `json:"invite_expire_time,omitempty"`
	InviteStatus string `json:"invite_status,omitempty"`
}

// serveKfList serves GET /cgi-bin/customservice/getkflist:
// {"kf_list":[{"kf_account","kf_headimgurl","kf_id","kf_nick","kf_wx",
// "invite_wx","invite_expire_time","invite_status"}]}.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (e *Emulator) serveKfList(w http.ResponseWriter, r *http.Request) {
	a := e.kfCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	now := e.Now()
	a.mu.Lock()
	st := kfOf(a)
	st.refreshInvites(now)
	list := make([]kfListItem, 0, len(st.accounts))
	for _, k := range st.accounts {
		it := kfListItem{Account: k.Account, HeadImgURL: k.HeadImgURL, ID: k.ID, Nickname: k.Nickname,
			WX: k.WX, InviteWX: k.InviteWX, InviteStatus: k.InviteStatus}
		if !k.InviteExpire.IsZero() {
			it.InviteExpire = k.InviteExpire.Unix()
		}
		list = append(list, it)
	}
	a.mu.Unlock()
	writeJSON(w, map[string]any{"kf_list": list})
}

// serveKfOnlineList serves GET /cgi-bin/customservice/getonlinekflist:
// {"kf_online_list":[{"kf_account","status","kf_id","accepted_case"}]},
// the workers online with the number of sessions they serve.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Management.html
func (e *Emulator) serveKfOnlineList(w http.ResponseWriter, r *http.Request) {
	a := e.kfCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	a.mu.Lock()
	st := kfOf(a)
	list := []map[string]any{}
	for _, k := range st.accounts {
		if k.Status == 0 {
			continue
		}
		n := 0
		for _, s := range st.sessions {
			if s.KfAccount == k.Account {
				n++
			}
		}
		list = append(list, map[string]any{"kf_account": k.Account, "status": k.Status, "kf_id": k.ID, "accepted_case": n})
	}
	a.mu.Unlock()
	writeJSON(w, map[string]any{"kf_online_list": list})
}

// kfSessionRequest is the body of kfsession/create and close.
type kfSessionRequest struct {
	KfAccount string `json:"kf_account"`
	OpenID    string `json:"openid"`
}

// pushKfEvent pushes a session event from openID to the account after the
// call (through the scheduler, so that WaitMassJobs waits for it).
func (e *Emulator) pushKfEvent(a *app, openID string, ev EventType, kfAccount string, now time.Time) {
	var x xmlBuilder
	x.cdata("MsgType", string(MsgTypeEvent))
	x.cdata("Event", string(ev))
	x.cdata("KfAccount", kfAccount)
	e.pushPlatformEventLater(now, a.cfg.AppID, openID, x.b.String())
}

// serveKfSessionCreate serves POST /customservice/kfsession/create
// {"kf_account","openid"}: the worker starts serving the user, and
// kf_create_session is pushed. Errors: 65401 (no such account), 40003
// (no such user), 65414 (another worker serves the user), 65415 (the
// worker is offline). A session the worker already has is left as it is.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Session_control.html
func (e *Emulator) serveKfSessionCreate(w http.ResponseWriter, r *http.Request) {
	var req kfSessionRequest
	a := e.kfCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	st := kfOf(a)
	k := st.account(req.KfAccount)
	switch {
	case k == nil:
		e.writeAPIError(w, mpErr(65401))
		return
	case a.user(req.OpenID) == nil:
		e.writeAPIError(w, apiErr(40003))
		return
	}
	if s := st.sessions[req.OpenID]; s != nil {
		if s.KfAccount != k.Account {
			e.writeAPIError(w, mpErr(65414))
			return
		}
		writeJSON(w, okBody)
		return
	}
	if k.Status == 0 {
		e.writeAPIError(w, mpErr(65415))
		return
	}
	st.sessions[req.OpenID] = &KfSession{KfAccount: k.Account, OpenID: req.OpenID, Created: now, lastActive: now}
	e.pushKfEvent(a, req.OpenID, eventKfCreateSession, k.Account, now)
	writeJSON(w, okBody)
}

// serveKfSessionClose serves POST /customservice/kfsession/close
// {"kf_account","openid"}: the session ends and kf_close_session is
// pushed. Errors: 65401 (no such account), 40003 (no such user), 65413
// (the user has no session with that worker).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Session_control.html
func (e *Emulator) serveKfSessionClose(w http.ResponseWriter, r *http.Request) {
	var req kfSessionRequest
	a := e.kfCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	st := kfOf(a)
	switch {
	case st.account(req.KfAccount) == nil:
		e.writeAPIError(w, mpErr(65401))
		return
	case a.user(req.OpenID) == nil:
		e.writeAPIError(w, apiErr(40003))
		return
	}
	s := st.sessions[req.OpenID]
	if s == nil || s.KfAccount != req.KfAccount {
		e.writeAPIError(w, mpErr(65413))
		return
	}
	delete(st.sessions, req.OpenID)
	e.pushKfEvent(a, req.OpenID, eventKfCloseSession, req.KfAccount, now)
	writeJSON(w, okBody)
}

// serveKfSessionGet serves GET /customservice/kfsession/getsession?openid=:
// {"kf_account","createtime"} of the user's session (empty and 0 when
// there is none). Errors: 40003 (no such user).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Session_control.html
func (e *Emulator) serveKfSessionGet(w http.ResponseWriter, r *http.Request) {
	a := e.kfCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	openID := r.URL.Query().Get("openid")
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.user(openID) == nil {
		e.writeAPIError(w, apiErr(40003))
		return
	}
	out := map[string]any{"errcode": 0, "errmsg": "ok", "kf_account": "", "createtime": 0}
	if s := kfOf(a).sessions[openID]; s != nil {
		out["kf_account"], out["createtime"] = s.KfAccount, s.Created.Unix()
	}
	writeJSON(w, out)
}

// serveKfSessionList serves GET /customservice/kfsession/getsessionlist?kf_account=:
// {"sessionlist":[{"createtime","openid"}]}, oldest first. Errors: 65401.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Session_control.html
func (e *Emulator) serveKfSessionList(w http.ResponseWriter, r *http.Request) {
	a := e.kfCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	name := r.URL.Query().Get("kf_account")
	a.mu.Lock()
	defer a.mu.Unlock()
	st := kfOf(a)
	if st.account(name) == nil {
		e.writeAPIError(w, mpErr(65401))
		return
	}
	list := []map[string]any{}
	for _, s := range sortedSessions(st) {
		if s.KfAccount == name {
			list = append(list, map[string]any{"createtime": s.Created.Unix(), "openid": s.OpenID})
		}
	}
	writeJSON(w, map[string]any{"sessionlist": list})
}

// sortedSessions returns the sessions of st, oldest first (then by openid).
func sortedSessions(st *kfState) []*KfSession {
	out := make([]*KfSession, 0, len(st.sessions))
	for _, s := range st.sessions {
		out = append(out, s)
	}
	slices.SortFunc(out, func(x, y *KfSession) int {
		if c := x.Created.Compare(y.Created); c != 0 {
			return c
		}
		if x.OpenID < y.OpenID {
			return -1
		}
		return 1
	})
	return out
}

// serveKfWaitCase serves GET /customservice/kfsession/getwaitcase:
// {"count","waitcaselist":[{"latest_time","openid"}]}, the users whose
// last message the account's server transferred to customer service (a
// transfer_customer_service reply) and who are in no session.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Session_control.html
func (e *Emulator) serveKfWaitCase(w http.ResponseWriter, r *http.Request) {
	a := e.kfCall(w, r, http.MethodGet, nil)
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := kfOf(a)
	list := []map[string]any{}
	for _, u := range a.users {
		if st.sessions[u.OpenID] != nil {
			continue
		}
		if t, ok := waitingSince(a.conv[u.OpenID]); ok {
			list = append(list, map[string]any{"latest_time": t.Unix(), "openid": u.OpenID})
		}
	}
	writeJSON(w, map[string]any{"count": len(list), "waitcaselist": list})
}

// waitingSince reports whether the last reply in log transferred the user
// to customer service and when the user's message then was sent.
func waitingSince(log []ConversationEntry) (time.Time, bool) {
	for i := len(log) - 1; i >= 0; i-- {
		en := log[i]
		if en.Direction == DirectionOut && en.Via == "reply" {
			if en.Reply == nil || en.Reply.Type != MsgTypeTransferCustomerService {
				return time.Time{}, false
			}
			return en.Time, true
		}
	}
	return time.Time{}, false
}

// ErrUnknownKfAccount: the customer-service account does not exist.
var ErrUnknownKfAccount = errors.New("emulator: unknown customer-service account")

// AcceptKfInvite makes the worker invited to kfAccount of appID accept
// the invitation (as the WeChat user would in the client): the account
// is bound to the invited WeChat ID and comes online. It fails when the
// account does not exist or has no waiting invitation.
func (e *Emulator) AcceptKfInvite(appID, kfAccount string) error {
	a := e.app(appID)
	if a == nil {
		return ErrUnknownApp
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := kfOf(a)
	st.refreshInvites(e.Now())
	k := st.account(kfAccount)
	switch {
	case k == nil:
		return fmt.Errorf("%w: %q", ErrUnknownKfAccount, kfAccount)
	case k.InviteStatus != "waiting":
		return fmt.Errorf("emulator: %s has no waiting invitation", kfAccount)
	}
	k.WX, k.InviteWX, k.InviteExpire, k.InviteStatus, k.Status = k.InviteWX, "", time.Time{}, "", 1
	return nil
}

// SwitchKfSession makes the worker serving openID of appID transfer the
// session to toKfAccount (as a worker does in the customer-service
// client): kf_switch_session (FromKfAccount, ToKfAccount) is pushed. The
// user must be in a session and toKfAccount must be another worker who is
// online.
func (e *Emulator) SwitchKfSession(appID, openID, toKfAccount string) error {
	a := e.app(appID)
	if a == nil {
		return ErrUnknownApp
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	st := kfOf(a)
	s := st.sessions[openID]
	to := st.account(toKfAccount)
	switch {
	case s == nil:
		return fmt.Errorf("emulator: %s is in no customer-service session", openID)
	case to == nil:
		return fmt.Errorf("%w: %q", ErrUnknownKfAccount, toKfAccount)
	case to.Status == 0:
		return fmt.Errorf("emulator: %s is not online", toKfAccount)
	case s.KfAccount == toKfAccount:
		return fmt.Errorf("emulator: %s already serves %s", toKfAccount, openID)
	}
	from := s.KfAccount
	s.KfAccount = toKfAccount
	var x xmlBuilder
	x.cdata("MsgType", string(MsgTypeEvent))
	x.cdata("Event", string(eventKfSwitchSession))
	x.cdata("FromKfAccount", from)
	x.cdata("ToKfAccount", toKfAccount)
	e.pushPlatformEventLater(now, appID, openID, x.b.String())
	return nil
}

// SetKfStatus sets the online status of the worker of kfAccount: 0
// offline, 1 online. Only a bound account (see AcceptKfInvite) can come
// online.
func (e *Emulator) SetKfStatus(appID, kfAccount string, status int) error {
	a := e.app(appID)
	if a == nil {
		return ErrUnknownApp
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	k := kfOf(a).account(kfAccount)
	switch {
	case k == nil:
		return fmt.Errorf("%w: %q", ErrUnknownKfAccount, kfAccount)
	case status != 0 && k.WX == "":
		return fmt.Errorf("emulator: %s has no bound worker", kfAccount)
	case status < 0 || status > 1:
		return fmt.Errorf("emulator: status %d (want 0 or 1)", status)
	}
	k.Status = status
	return nil
}

// KfAccounts returns the customer-service accounts of appID.
func (e *Emulator) KfAccounts(appID string) ([]KfAccount, error) {
	a := e.app(appID)
	if a == nil {
		return nil, ErrUnknownApp
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]KfAccount, 0)
	for _, k := range kfOf(a).accounts {
		out = append(out, *k)
	}
	return out, nil
}

// KfSessions returns the open customer-service sessions of appID, oldest
// first, each with the messages the user sent since it opened (which the
// platform routes to the worker).
func (e *Emulator) KfSessions(appID string) ([]KfSession, error) {
	a := e.app(appID)
	if a == nil {
		return nil, ErrUnknownApp
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []KfSession
	for _, s := range sortedSessions(kfOf(a)) {
		c := *s
		for _, en := range a.conv[s.OpenID] {
			if en.RoutedTo != "" && !en.Time.Before(s.Created) {
				c.Messages = append(c.Messages, en)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// routeToKf forwards in, a message from a user in a customer-service
// session, to the worker instead of the push URL, as the platform does
// until the session closes or has been idle for 30 minutes; events are
// pushed as usual. The message is logged (RoutedTo) and counts as the
// user's interaction. It returns nil when in is to be pushed.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Forwarding_of_messages_to_service_center.html
func (e *Emulator) routeToKf(a *app, in *InboundMessage, now time.Time) *PushResult {
	if in.MsgType == MsgTypeEvent {
		return nil
	}
	a.mu.Lock()
	s := kfOf(a).sessions[in.FromUserName]
	if s == nil || now.Sub(s.lastActive) > kfForwardIdle {
		a.mu.Unlock()
		return nil
	}
	s.lastActive = now
	a.appendConversation(in.FromUserName, ConversationEntry{
		Time: now, Direction: DirectionIn, Type: in.MsgType, MsgID: in.MsgID, Text: in.Content,
		XML: in.XML, RoutedTo: s.KfAccount,
	})
	kf := s.KfAccount
	a.mu.Unlock()
	recordInbound(a, in, now)
	return &PushResult{AppID: a.cfg.AppID, User: in.FromUserName, Message: in, NoReply: true, RoutedTo: kf}
}
