package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// blacklistState is the account's blacklist (黑名单): the OpenIDs in the
// order they were blacklisted. Guarded by app.mu.
type blacklistState struct {
	ids []string
	at  map[string]time.Time // when each OpenID was blacklisted
}

func init() {
	handle("/cgi-bin/tags/members/getblacklist", (*Emulator).serveGetBlacklist)
	handle("/cgi-bin/tags/members/batchblacklist", (*Emulator).serveBatchBlacklist)
	handle("/cgi-bin/tags/members/batchunblacklist", (*Emulator).serveBatchUnblacklist)
}

// maxBlacklistBatch is how many OpenIDs batchblacklist and batchunblacklist
// take in one call ("一次最多拉黑20个用户"); more give 40032.
const maxBlacklistBatch = 20

// blacklistOf returns the blacklist of a. a.mu must be held.
func blacklistOf(a *app) *blacklistState {
	st := appExt[blacklistState](a, "mp_blacklist")
	if st.at == nil {
		st.at = map[string]time.Time{}
	}
	return st
}

// blacklisted reports whether the account has blacklisted openID. The
// platform delivers none of such a user's messages to the account (Push
// reports them Blocked) and leaves the user out of mass sends. a.mu must
// be held.
func (a *app) blacklisted(openID string) bool {
	_, ok := blacklistOf(a).at[openID]
	return ok
}

// Blacklist returns the OpenIDs that appID has blacklisted, in the order
// they were blacklisted (for UIs and tests).
func (e *Emulator) Blacklist(appID string) ([]string, error) {
	a := e.app(appID)
	if a == nil {
		return nil, ErrUnknownApp
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(blacklistOf(a).ids), nil
}

// serveGetBlacklist serves POST /cgi-bin/tags/members/getblacklist
// {"begin_openid"}: the blacklist after begin_openid ("" or no body: from
// the start), 10000 a page (see SetUserPageSize), with the total. The page
// shape is user/get's; next_openid is the last OpenID of the page. A
// begin_openid that is not on the blacklist gives 40003.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Manage_blacklist.html
func (e *Emulator) serveGetBlacklist(w http.ResponseWriter, r *http.Request) {
	var req struct {
		BeginOpenID string `json:"begin_openid"`
	}
	a := e.mpCall(w, r, http.MethodPost, nil)
	if a == nil {
		return
	}
	// The body is optional: SDKs send {} or nothing for the first page.
	b, err := readBody(r)
	if err != nil || (len(b) > 0 && json.Unmarshal(b, &req) != nil) {
		e.writeAPIError(w, apiErr(47001))
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := blacklistOf(a).ids
	p, ok := pageAfter(ids, req.BeginOpenID, tagsOf(a).page())
	if !ok {
		e.writeAPIError(w, apiErr(40003))
		return
	}
	total := len(ids)
	p.Total = &total
	writeJSON(w, p)
}

// serveBatchBlacklist serves POST /cgi-bin/tags/members/batchblacklist
// {"openid_list":[...]}. All or nothing: 40032 for 0 or more than 20
// OpenIDs, 40003 for one that is not a user of the account.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Manage_blacklist.html
func (e *Emulator) serveBatchBlacklist(w http.ResponseWriter, r *http.Request) {
	e.serveBlacklistBatch(w, r, true)
}

// serveBatchUnblacklist serves POST /cgi-bin/tags/members/batchunblacklist
// with the checks of batchblacklist. Users not on the blacklist are left
// alone.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/User_Management/Manage_blacklist.html
func (e *Emulator) serveBatchUnblacklist(w http.ResponseWriter, r *http.Request) {
	e.serveBlacklistBatch(w, r, false)
}

func (e *Emulator) serveBlacklistBatch(w http.ResponseWriter, r *http.Request, add bool) {
	var req struct {
		OpenIDs []string `json:"openid_list"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
		return
	}
	if len(req.OpenIDs) == 0 || len(req.OpenIDs) > maxBlacklistBatch {
		e.writeAPIError(w, mpErr(40032))
		return
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range req.OpenIDs {
		if a.user(id) == nil {
			e.writeAPIError(w, apiErr(40003))
			return
		}
	}
	st := blacklistOf(a)
	for _, id := range req.OpenIDs {
		_, on := st.at[id]
		switch {
		case add && !on:
			st.at[id] = now
			st.ids = append(st.ids, id)
		case !add && on:
			delete(st.at, id)
			st.ids = slices.DeleteFunc(st.ids, func(s string) bool { return s == id })
		}
	}
	writeJSON(w, okBody)
}

// blockedPush records in the conversation log that a blacklisted user sent
// in, which the platform does not deliver, and returns the result Push
// reports for it: Blocked, no delivery, nothing seen by the user.
func (e *Emulator) blockedPush(a *app, in *InboundMessage, now time.Time) *PushResult {
	a.mu.Lock()
	a.appendConversation(in.FromUserName, ConversationEntry{
		Time: now, Direction: DirectionIn, Type: in.MsgType, Event: in.Event, EventKey: in.EventKey,
		MsgID: in.MsgID, Text: in.Content, XML: in.XML, Blocked: true,
		Error: "not delivered: the account has blacklisted this user",
	})
	a.mu.Unlock()
	return &PushResult{AppID: a.cfg.AppID, User: in.FromUserName, Message: in, Blocked: true, NoReply: true}
}

// blocksPush reports whether a push of in from a blacklisted user is
// withheld: everything the user sends or does, but following and
// unfollowing, which change the relation the user APIs report, and the
// events the platform pushes about a send (platformEvents).
func blocksPush(in *InboundMessage) bool {
	if in.MsgType == MsgTypeEvent && slices.Contains(platformEvents, in.Event) {
		return false
	}
	return in.MsgType != MsgTypeEvent || (in.Event != EventTypeSubscribe && in.Event != EventTypeUnsubscribe)
}
