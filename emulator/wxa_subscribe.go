package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
)

func init() {
	handle("/cgi-bin/message/subscribe/send", (*Emulator).serveSubscribeMessageSend)
}

// ErrUnknownTemplate: a template id that is not one of the app's
// subscription templates (see SubscribeTemplates and AddTemplate).
var ErrUnknownTemplate = errors.New("emulator: unknown subscription template")

// maxSubscribeRequest is how many templates one wx.requestSubscribeMessage
// may ask for.
const maxSubscribeRequest = 3

// WXRequestSubscribeMessage simulates the user openID (the first user when
// empty) of the Mini Program appID answering wx.requestSubscribeMessage
// for 1 to 3 of its subscription templates: accept allows one more
// message of each template to be sent to the user (one-time subscriptions
// add up, one per acceptance); reject withdraws what was allowed. It
// returns the answer per template id ("accept" or "reject"), as the
// client API does. Errors: ErrUnknownApp, ErrNotMiniProgram,
// ErrUnknownUser, ErrUnknownTemplate, and an error for an empty or
// too long list.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/api/open-api/subscribe-message/wx.requestSubscribeMessage.html
func (e *Emulator) WXRequestSubscribeMessage(appID, openID string, tmplIDs []string, accept bool) (map[string]string, error) {
	a, u, err := e.miniProgramUser(appID, openID)
	if err != nil {
		return nil, err
	}
	if len(tmplIDs) == 0 || len(tmplIDs) > maxSubscribeRequest {
		return nil, fmt.Errorf("emulator: wx.requestSubscribeMessage takes 1 to %d template ids, got %d", maxSubscribeRequest, len(tmplIDs))
	}
	a.mu.Lock()
	subs := templatesOf(a).subscribe
	for _, id := range tmplIDs {
		if !slices.ContainsFunc(subs, func(t TemplateInfo) bool { return t.TemplateID == id }) {
			a.mu.Unlock()
			return nil, fmt.Errorf("%w: %q of %s", ErrUnknownTemplate, id, appID)
		}
	}
	a.mu.Unlock()
	st := wxaOf(a)
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.accepted[u.OpenID]
	if m == nil {
		m = map[string]int{}
		st.accepted[u.OpenID] = m
	}
	out := make(map[string]string, len(tmplIDs))
	for _, id := range tmplIDs {
		if accept {
			m[id]++
			out[id] = "accept"
		} else {
			delete(m, id)
			out[id] = "reject"
		}
	}
	return out, nil
}

// subscribeMessageRequest is the body of cgi-bin/message/subscribe/send.
type subscribeMessageRequest struct {
	ToUser           string `json:"touser"`
	TemplateID       string `json:"template_id"`
	Page             string `json:"page"`
	MiniprogramState string `json:"miniprogram_state"`
	Lang             string `json:"lang"`
	Data             map[string]struct {
		Value string `json:"value"`
	} `json:"data"`
}

// serveSubscribeMessageSend serves POST /cgi-bin/message/subscribe/send,
// a Mini Program's subscription message. Errors, in order: the
// access_token errors, 48001 for an Official Account (they use bizsend),
// 44002/47001 a missing or bad body, 40003 touser not a user of the app,
// 40037 template_id not one of its subscription templates, 40097 a
// miniprogram_state other than developer, trial or formal or a lang other
// than zh_CN, en_US, zh_HK or zh_TW, 47003 a keyword value that breaks its
// kind's rules (errmsg names it), 43101 the user has no acceptance left
// for the template (see WXRequestSubscribeMessage). A sent message uses
// one acceptance and is added to the conversation log (via "subscribe").
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html
func (e *Emulator) serveSubscribeMessageSend(w http.ResponseWriter, r *http.Request) {
	var req subscribeMessageRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireMiniProgram(w, a) {
		return
	}
	now := e.Now()
	a.mu.Lock()
	u := a.user(req.ToUser)
	subs := templatesOf(a).subscribe
	i := slices.IndexFunc(subs, func(t TemplateInfo) bool { return t.TemplateID == req.TemplateID })
	var t TemplateInfo
	if i >= 0 {
		t = subs[i]
	}
	a.mu.Unlock()
	switch {
	case u == nil:
		e.writeAPIError(w, apiErr(40003))
		return
	case i < 0:
		e.writeAPIError(w, mpErr(40037))
		return
	case !slices.Contains([]string{"", "developer", "trial", "formal"}, req.MiniprogramState),
		!slices.Contains([]string{"", "zh_CN", "en_US", "zh_HK", "zh_TW"}, req.Lang):
		e.writeErr(w, 40097)
		return
	}
	for _, m := range placeholderRE.FindAllStringSubmatch(t.Content, -1) {
		key := m[1]
		if !checkSubscribeValue(key, req.Data[key].Value) {
			e.writeAPIError(w, mpErrf(47003, fmt.Sprintf("argument invalid! data.%s.value invalid", key)))
			return
		}
	}
	st := wxaOf(a)
	st.mu.Lock()
	left := st.accepted[u.OpenID][t.TemplateID]
	if left > 0 {
		st.accepted[u.OpenID][t.TemplateID] = left - 1
	}
	st.mu.Unlock()
	if left == 0 {
		e.writeAPIError(w, wxaErr(43101))
		return
	}
	text := renderTemplate(t.Content, func(k string) string { return req.Data[k].Value })
	a.mu.Lock()
	a.appendConversation(u.OpenID, ConversationEntry{
		Time: now, Direction: DirectionOut, Via: "subscribe", Type: MsgTypeText, Text: t.Title + "\n" + text,
	})
	a.mu.Unlock()
	writeJSON(w, okBody)
}
