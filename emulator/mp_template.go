package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// TemplateInfo is a private template of an app (template messages) or a
// subscription-notification template (bizsend).
type TemplateInfo struct {
	TemplateID      string `json:"template_id"`
	Title           string `json:"title"`
	PrimaryIndustry string `json:"primary_industry"`
	DeputyIndustry  string `json:"deputy_industry"`
	// Content has {{keyword.DATA}} placeholders.
	Content string `json:"content"`
	Example string `json:"example"`
	// Type is the kind of a subscription-notification template: 2
	// one-time (一次性订阅, one message per acceptance), 3 long-term
	// (长期订阅). Zero for template-message templates.
	Type int `json:"type,omitempty"`
}

// templateState is the per-app template store (guarded by app.mu).
type templateState struct {
	seeded    bool
	templates []TemplateInfo // template messages
	subscribe []TemplateInfo // subscription notifications
	lastMsgID int64
}

func init() {
	handle("/cgi-bin/message/template/send", (*Emulator).serveTemplateSend)
	handle("/cgi-bin/template/get_all_private_template", (*Emulator).serveTemplateList)
	handle("/cgi-bin/template/del_private_template", (*Emulator).serveTemplateDelete)
}

// seededTemplateID returns a stable 43-character template id for appID.
func seededTemplateID(appID, name string) string {
	sum := sha256.Sum256([]byte("template:" + appID + ":" + name))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:43]
}

// templatesOf returns the template store of a, seeding every app with two
// template-message templates and one subscription template. a.mu must be
// held.
func templatesOf(a *app) *templateState {
	st := appExt[templateState](a, "mp_templates")
	if !st.seeded {
		st.seeded = true
		id := a.cfg.AppID
		st.templates = []TemplateInfo{
			{
				TemplateID: seededTemplateID(id, "order_paid"), Title: "订单支付成功通知",
				PrimaryIndustry: "IT科技", DeputyIndustry: "互联网|电子商务",
				Content: "{{first.DATA}}\n订单号：{{keyword1.DATA}}\n支付金额：{{keyword2.DATA}}\n{{remark.DATA}}",
				Example: "您的订单已支付成功\n订单号：2025030112345\n支付金额：99.00元\n感谢您的惠顾",
			},
			{
				TemplateID: seededTemplateID(id, "appointment"), Title: "预约成功通知",
				PrimaryIndustry: "IT科技", DeputyIndustry: "互联网|电子商务",
				Content: "预约项目：{{thing1.DATA}}\n预约时间：{{time2.DATA}}",
				Example: "预约项目：体检\n预约时间：2025年3月1日 10:00",
			},
		}
		st.subscribe = []TemplateInfo{{
			TemplateID: seededTemplateID(id, "subscribe_review"), Title: "审核结果通知", Type: 2,
			Content: "审核结果：{{phrase1.DATA}}\n申请项目：{{thing2.DATA}}\n审核时间：{{time3.DATA}}",
			Example: "审核结果：通过\n申请项目：会员认证\n审核时间：2025-03-01 10:00",
		}}
	}
	return st
}

// Templates returns the private templates (template messages) of appID,
// the two seeded ones first.
func (e *Emulator) Templates(appID string) ([]TemplateInfo, error) {
	a := e.app(appID)
	if a == nil {
		return nil, ErrUnknownApp
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(templatesOf(a).templates), nil
}

// SubscribeTemplates returns the subscription-notification templates of
// appID (one is seeded).
func (e *Emulator) SubscribeTemplates(appID string) ([]TemplateInfo, error) {
	a := e.app(appID)
	if a == nil {
		return nil, ErrUnknownApp
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(templatesOf(a).subscribe), nil
}

// AddTemplate adds a private template to appID (subscribe: a
// subscription-notification template) and returns its id (t.TemplateID, or
// a generated one).
func (e *Emulator) AddTemplate(appID string, t TemplateInfo, subscribe bool) (string, error) {
	a := e.app(appID)
	if a == nil {
		return "", ErrUnknownApp
	}
	if t.TemplateID == "" {
		t.TemplateID = randomString(43, tokenAlphabet)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := templatesOf(a)
	if subscribe {
		st.subscribe = append(st.subscribe, t)
	} else {
		st.templates = append(st.templates, t)
	}
	return t.TemplateID, nil
}

var placeholderRE = regexp.MustCompile(`\{\{([A-Za-z0-9_]+)\.DATA\}\}`)

// renderTemplate fills content's placeholders from data (missing keywords
// are left empty, as the client shows them).
func renderTemplate(content string, value func(string) string) string {
	return placeholderRE.ReplaceAllStringFunc(content, func(m string) string {
		return value(placeholderRE.FindStringSubmatch(m)[1])
	})
}

// templateSendRequest is the body of message/template/send.
type templateSendRequest struct {
	ToUser      string `json:"touser"`
	TemplateID  string `json:"template_id"`
	URL         string `json:"url"`
	MiniProgram *struct {
		AppID    string `json:"appid"`
		PagePath string `json:"pagepath"`
	} `json:"miniprogram"`
	ClientMsgID string `json:"client_msg_id"`
	Data        map[string]struct {
		Value string `json:"value"`
		Color string `json:"color"`
	} `json:"data"`
}

// templateSendDaily is the default daily quota of message/template/send
// (100000 a day; the platform raises it with the follower count).
const templateSendDaily = 100000

// Statuses of the TEMPLATESENDJOBFINISH event.
const (
	templateStatusSuccess   = "success"
	templateStatusUserBlock = "failed:user block"
	// templateStatusSystemFailed is written with a space after the colon,
	// unlike failed:user block, as in the docs' event table.
	templateStatusSystemFailed = "failed: system failed"
)

// serveTemplateSend serves POST /cgi-bin/message/template/send. Errors, in
// order: the access_token errors, 48001 for a Mini Program, 44002/47001 a
// missing or bad body, 45009 over the daily quota (100000, Limits.Daily),
// 40003 touser empty or not of the app, 43004 the user does not follow,
// 40037 an unknown template_id. A miniprogram with an empty appid is
// ignored, as SDKs send one on every call. It
// answers {"msgid":N}, adds the message, as the user sees it, to the
// conversation log (via "template") and then pushes TEMPLATESENDJOBFINISH
// with that MsgID and Status "success", "failed:user block" when the
// account has blacklisted the user, or "failed: system failed" when a
// FailDelivery fault is injected (the user sees nothing in both).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
func (e *Emulator) serveTemplateSend(w http.ResponseWriter, r *http.Request) {
	var req templateSendRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	const path = "/cgi-bin/message/template/send"
	if !a.takeQuota(path, e.dailyLimit(path, templateSendDaily), now) {
		e.writeErr(w, 45009)
		return
	}
	u := a.user(req.ToUser)
	if u == nil {
		e.writeAPIError(w, apiErr(40003))
		return
	}
	if !u.subscribed {
		e.writeAPIError(w, apiErr(43004))
		return
	}
	st := templatesOf(a)
	i := slices.IndexFunc(st.templates, func(t TemplateInfo) bool { return t.TemplateID == req.TemplateID })
	if i < 0 {
		e.writeAPIError(w, mpErr(40037))
		return
	}
	text := renderTemplate(st.templates[i].Content, func(k string) string { return req.Data[k].Value })
	if st.lastMsgID == 0 {
		st.lastMsgID = int64(randomInt(1000000000, 1999999999))
	}
	st.lastMsgID++
	status := templateStatusSuccess
	entry := ConversationEntry{
		Time: now, Direction: DirectionOut, Via: "template", Type: MsgTypeText, MsgID: st.lastMsgID,
		Text: st.templates[i].Title + "\n" + text,
	}
	switch {
	case a.blacklisted(u.OpenID):
		status = templateStatusUserBlock
		entry.Blocked, entry.Error = true, "not delivered: "+status
	case e.takeDeliveryFault(path, a.cfg.AppID):
		status = templateStatusSystemFailed
		entry.Error = "not delivered: " + status
	}
	a.appendConversation(u.OpenID, entry)
	var x xmlBuilder
	x.num("MsgID", itoa64(st.lastMsgID))
	x.cdata("Status", status)
	e.queueEvent(a, PushRequest{User: u.OpenID, RawXML: eventXML(eventTemplateSendJobFinish, x.b.String())})
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": st.lastMsgID})
}

// serveTemplateList serves GET /cgi-bin/template/get_all_private_template
// (48001 for a Mini Program).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
func (e *Emulator) serveTemplateList(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodGet, nil)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	a.mu.Lock()
	list := slices.Clone(templatesOf(a).templates)
	a.mu.Unlock()
	if list == nil {
		list = []TemplateInfo{}
	}
	writeJSON(w, map[string]any{"template_list": list})
}

// serveTemplateDelete serves POST /cgi-bin/template/del_private_template
// {"template_id"}; an unknown id gives 40037, a Mini Program 48001.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
func (e *Emulator) serveTemplateDelete(w http.ResponseWriter, r *http.Request) {
	var req struct {
		TemplateID string `json:"template_id"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := templatesOf(a)
	i := slices.IndexFunc(st.templates, func(t TemplateInfo) bool { return t.TemplateID == req.TemplateID })
	if i < 0 {
		e.writeAPIError(w, mpErr(40037))
		return
	}
	st.templates = slices.Delete(st.templates, i, i+1)
	writeJSON(w, okBody)
}

// checkSubscribeValue applies the value rules of a subscription keyword by
// its kind (the name without the trailing digits): thing ≤20 characters,
// number ≤32 digits (with an optional fraction), letter ≤32 letters, symbol
// ≤5 characters, character_string ≤32, time and date not empty, amount a
// number with an optional currency sign, phrase ≤5 Chinese characters, name
// ≤10 characters (≤20 when not Chinese).
func checkSubscribeValue(key, v string) bool {
	kind := strings.TrimRight(key, "0123456789")
	n := utf8.RuneCountInString(v)
	switch kind {
	case "thing":
		return n >= 1 && n <= 20
	case "number":
		_, err := strconv.ParseFloat(v, 64)
		return err == nil && n <= 32
	case "letter":
		return n >= 1 && n <= 32 && strings.IndexFunc(v, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') }) < 0
	case "symbol":
		return n >= 1 && n <= 5
	case "character_string":
		return n >= 1 && n <= 32
	case "time", "date":
		return n >= 1
	case "amount":
		_, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimLeft(v, "¥$￥"), "元"), 64)
		return err == nil
	case "phrase":
		return n >= 1 && n <= 5
	case "name":
		return n >= 1 && n <= 20
	}
	return true
}
