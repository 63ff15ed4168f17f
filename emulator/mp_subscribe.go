package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
)

func init() {
	handle("/cgi-bin/message/subscribe/bizsend", (*Emulator).serveSubscribeSend)
}

// ErrNotOfficialAccount: the call is for Official Accounts and the app is
// a Mini Program.
var ErrNotOfficialAccount = errors.New("emulator: the app is not an Official Account")

// requireOfficialAccount answers 48001 and returns false when a is a Mini
// Program (the API is not open to Mini Programs).
func (e *Emulator) requireOfficialAccount(w http.ResponseWriter, a *app) bool {
	if a.cfg.Type != AppTypeMiniProgram {
		return true
	}
	e.writeErrMsg(w, 48001, errMsg(48001)+": the account is not an Official Account")
	return false
}

// oaSubscribeState holds what the users of an Official Account accepted
// (guarded by a.mu): openid → template id → messages left; longTerm marks
// long-term acceptances, which sends do not use up.
type oaSubscribeState struct {
	accepted  map[string]map[string]int
	longTerm  map[string]map[string]bool
	lastMsgID int64
}

func oaSubscribeOf(a *app) *oaSubscribeState {
	st := appExt[oaSubscribeState](a, "mp_subscribe_accept")
	if st.accepted == nil {
		st.accepted = map[string]map[string]int{}
		st.longTerm = map[string]map[string]bool{}
	}
	return st
}

// Popup scenes of subscribe_msg_popup_event for an Official Account.
const (
	// PopupSceneH5 is a subscription from a web page (wx-open-subscribe).
	PopupSceneH5 = 1
	// PopupSceneArticle is a subscription from an article (图文消息).
	PopupSceneArticle = 2
)

// SubscribePopupRequest is what a simulated user does with the
// subscription dialog of an Official Account (see SubscribePopup).
type SubscribePopupRequest struct {
	// OpenID is the user; the app's first user when empty.
	OpenID string `json:"openid"`
	// TemplateID is one of the app's subscription templates.
	TemplateID string `json:"template_id"`
	// Accept is the user's answer: true for 允许 (accept), false for
	// 取消 (reject).
	Accept bool `json:"accept"`
	// Scene is the PopupScene: PopupSceneH5 (the default) or
	// PopupSceneArticle.
	Scene int `json:"scene,omitempty"`
	// Settings makes the answer come from the notification settings page
	// instead of the dialog: only rejections are possible there, and the
	// event is subscribe_msg_change_event.
	Settings bool `json:"settings,omitempty"`
}

// SubscribePopupResult is the outcome of SubscribePopup.
type SubscribePopupResult struct {
	OpenID     string `json:"openid"`
	TemplateID string `json:"template_id"`
	// Status is "accept" or "reject" (SubscribeStatusString).
	Status string `json:"status"`
	// Push is the pushed event; nil when the app has no push URL.
	Push *PushResult `json:"push,omitempty"`
}

// SubscribePopup simulates a user of the Official Account appID answering
// the subscription dialog for one of its subscription templates (or, with
// Settings, turning it off in the notification settings). Accepting a
// one-time template (type 2) allows one more bizsend of it to the user
// (acceptances add up); accepting a long-term one (type 3) allows sends
// until the user rejects; rejecting withdraws what was allowed. The event
// (subscribe_msg_popup_event with TemplateId, SubscribeStatusString and
// PopupScene, or subscribe_msg_change_event) is pushed to the account
// before SubscribePopup returns. Users who do not follow the account may
// subscribe too. Errors: ErrUnknownApp, ErrNotOfficialAccount,
// ErrUnknownUser, ErrUnknownTemplate, ErrBadPushRequest (a scene other
// than 1 or 2, an acceptance from the settings page), and ctx's error.
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/guide/product/subscription_messages/push.html
func (e *Emulator) SubscribePopup(ctx context.Context, appID string, req SubscribePopupRequest) (*SubscribePopupResult, error) {
	a := e.app(appID)
	if a == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownApp, appID)
	}
	if a.cfg.Type == AppTypeMiniProgram {
		return nil, fmt.Errorf("%w: %s (use wx.requestSubscribeMessage)", ErrNotOfficialAccount, appID)
	}
	switch {
	case req.Scene == 0:
		req.Scene = PopupSceneH5
	case req.Scene != PopupSceneH5 && req.Scene != PopupSceneArticle:
		return nil, fmt.Errorf("%w: scene must be 1 (H5) or 2 (article), got %d", ErrBadPushRequest, req.Scene)
	}
	if req.Settings && req.Accept {
		return nil, fmt.Errorf("%w: the settings page only turns notifications off", ErrBadPushRequest)
	}
	a.mu.Lock()
	u := a.user(req.OpenID)
	if req.OpenID == "" && len(a.users) > 0 {
		u = a.users[0]
	}
	if u == nil {
		a.mu.Unlock()
		return nil, fmt.Errorf("%w: %q of app %s", ErrUnknownUser, req.OpenID, appID)
	}
	subs := templatesOf(a).subscribe
	i := slices.IndexFunc(subs, func(t TemplateInfo) bool { return t.TemplateID == req.TemplateID })
	if i < 0 {
		a.mu.Unlock()
		return nil, fmt.Errorf("%w: %q of %s", ErrUnknownTemplate, req.TemplateID, appID)
	}
	st := oaSubscribeOf(a)
	openID, id := u.OpenID, req.TemplateID
	if st.accepted[openID] == nil {
		st.accepted[openID], st.longTerm[openID] = map[string]int{}, map[string]bool{}
	}
	status := "reject"
	if req.Accept {
		status = "accept"
		st.accepted[openID][id]++
		st.longTerm[openID][id] = subs[i].Type == 3
	} else {
		delete(st.accepted[openID], id)
		delete(st.longTerm[openID], id)
	}
	a.mu.Unlock()

	item := [][2]string{{"TemplateId", id}, {"SubscribeStatusString", status}}
	ev, wrapper := eventSubscribeMsgChange, "SubscribeMsgChangeEvent"
	if !req.Settings {
		ev, wrapper = eventSubscribeMsgPopup, "SubscribeMsgPopupEvent"
		item = append(item, [2]string{"PopupScene", itoa64(int64(req.Scene))})
	}
	res := &SubscribePopupResult{OpenID: openID, TemplateID: id, Status: status}
	raw := eventXML(ev, subscribeListXML(wrapper, [][][2]string{item}))
	p, err := e.Push(ctx, appID, PushRequest{User: openID, RawXML: raw})
	switch {
	case errors.Is(err, ErrNoPushURL):
	case err != nil:
		return nil, err
	default:
		res.Push = p
	}
	return res, nil
}

// serveSubscribeSend serves POST /cgi-bin/message/subscribe/bizsend, an
// Official Account's subscription notification. Errors, in order: the
// access_token errors, 48001 for a Mini Program (they use
// message/subscribe/send), 44002/47001 a missing or bad body, 40003
// touser not of the app, 40037 an unknown template, 47003 a keyword value
// that breaks its kind's rules (errmsg names it), 43101 the user has not
// accepted the template (see SubscribePopup) or used up the acceptance of
// a one-time template. The notification is added to the conversation log
// (via "subscribe") and subscribe_msg_sent_event (TemplateId, MsgID,
// ErrorCode 0, ErrorStatus "success") is pushed after the answer.
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/api/notify/notify/api_sendnewsubscribemsg.html
func (e *Emulator) serveSubscribeSend(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ToUser     string `json:"touser"`
		TemplateID string `json:"template_id"`
		Page       string `json:"page"`
		Data       map[string]struct {
			Value string `json:"value"`
		} `json:"data"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.user(req.ToUser)
	if u == nil {
		e.writeAPIError(w, apiErr(40003))
		return
	}
	st := templatesOf(a)
	i := slices.IndexFunc(st.subscribe, func(t TemplateInfo) bool { return t.TemplateID == req.TemplateID })
	if i < 0 {
		e.writeAPIError(w, mpErr(40037))
		return
	}
	t := st.subscribe[i]
	for _, m := range placeholderRE.FindAllStringSubmatch(t.Content, -1) {
		key := m[1]
		if !checkSubscribeValue(key, req.Data[key].Value) {
			e.writeAPIError(w, mpErrf(47003, fmt.Sprintf("argument invalid! data.%s.value invalid", key)))
			return
		}
	}
	acc := oaSubscribeOf(a)
	left := acc.accepted[u.OpenID][t.TemplateID]
	if left == 0 {
		e.writeAPIError(w, mpErr(43101))
		return
	}
	if !acc.longTerm[u.OpenID][t.TemplateID] {
		acc.accepted[u.OpenID][t.TemplateID] = left - 1
	}
	if acc.lastMsgID == 0 {
		acc.lastMsgID = now.Unix()<<32 | int64(randomInt(1, 1<<20))
	}
	acc.lastMsgID++
	text := renderTemplate(t.Content, func(k string) string { return req.Data[k].Value })
	a.appendConversation(u.OpenID, ConversationEntry{
		Time: now, Direction: DirectionOut, Via: "subscribe", Type: MsgTypeText, MsgID: acc.lastMsgID,
		Text: t.Title + "\n" + text,
	})
	item := [][2]string{{"TemplateId", t.TemplateID}, {"MsgID", itoa64(acc.lastMsgID)}, {"ErrorCode", "0"}, {"ErrorStatus", "success"}}
	raw := eventXML(eventSubscribeMsgSent, subscribeListXML("SubscribeMsgSentEvent", [][][2]string{item}))
	e.queueEvent(a, PushRequest{User: u.OpenID, RawXML: raw})
	writeJSON(w, okBody)
}
