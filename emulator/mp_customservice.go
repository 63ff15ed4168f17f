package emulator

import (
	"net/http"
	"slices"
	"time"
)

// Limits of customer-service messages.
const (
	// csWindow is how long after a user's last interaction the account may
	// send customer-service messages (45015 after).
	csWindow = 48 * time.Hour
	// csPerInteraction is how many customer-service messages one
	// interaction allows (45047 beyond).
	csPerInteraction = 20
	// csMaxText is the largest text message, in bytes (45002 beyond).
	csMaxText = 2048
)

func init() {
	handle("/cgi-bin/message/custom/send", (*Emulator).serveCustomSend)
	handle("/cgi-bin/message/custom/typing", (*Emulator).serveCustomTyping)
}

// windowEvents are the events that open the 48-hour window: following,
// scanning a QR code, the click, scancode_push and scancode_waitmsg menu
// buttons, and a Mini Program user entering the customer-service session.
// Every normal message opens it too.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
var windowEvents = []EventType{EventTypeSubscribe, EventTypeScan, EventTypeClick, "scancode_push", "scancode_waitmsg", "user_enter_tempsession"}

// lastInteraction returns when openID last interacted with the account
// (zero if never, as far as the conversation log goes) and how many
// customer-service messages were sent since. a.mu must be held.
func lastInteraction(a *app, openID string) (time.Time, int) {
	log := a.conv[openID]
	sent := 0
	for i := len(log) - 1; i >= 0; i-- {
		en := log[i]
		switch {
		case en.Direction == DirectionOut && en.Via == "custom":
			sent++
		case en.Direction == DirectionIn && (en.Type != MsgTypeEvent || slices.Contains(windowEvents, en.Event)):
			return en.Time, sent
		}
	}
	return time.Time{}, sent
}

// checkWindow answers 45015 when u has not interacted within 48 hours (or
// does not follow the account) and, when counting, 45047 when 20 messages
// were sent since. a.mu must be held.
func checkWindow(a *app, u *user, now time.Time, counting bool) error {
	last, sent := lastInteraction(a, u.OpenID)
	if !u.subscribed || last.IsZero() || now.Sub(last) > csWindow {
		return mpErr(45015)
	}
	if counting && sent >= csPerInteraction {
		return mpErr(45047)
	}
	return nil
}

// customSendRequest is the body of message/custom/send.
type customSendRequest struct {
	ToUser  string `json:"touser"`
	MsgType string `json:"msgtype"`
	Text    *struct {
		Content string `json:"content"`
	} `json:"text"`
	Image *struct {
		MediaID string `json:"media_id"`
	} `json:"image"`
	Voice *struct {
		MediaID string `json:"media_id"`
	} `json:"voice"`
	News *struct {
		Articles []struct {
			Title       string `json:"title"`
			Description string `json:"description"`
			URL         string `json:"url"`
			PicURL      string `json:"picurl"`
		} `json:"articles"`
	} `json:"news"`
	MiniProgramPage *struct {
		Title        string `json:"title"`
		AppID        string `json:"appid"`
		PagePath     string `json:"pagepath"`
		ThumbMediaID string `json:"thumb_media_id"`
	} `json:"miniprogrampage"`
	CustomService *struct {
		KfAccount string `json:"kf_account"`
	} `json:"customservice"`
}

// customContent validates the message body and returns what the user
// sees. a.mu must be held.
func (e *Emulator) customContent(a *app, req *customSendRequest, now time.Time) (MsgType, string, error) {
	media := func(id string) error {
		if id == "" || e.lookupMedia(a, id, now) == nil {
			return apiErr(40007)
		}
		return nil
	}
	switch req.MsgType {
	case "text":
		switch {
		case req.Text == nil || req.Text.Content == "":
			return "", "", mpErr(44004)
		case len(req.Text.Content) > csMaxText:
			return "", "", mpErr(45002)
		}
		return MsgTypeText, req.Text.Content, nil
	case "image":
		if req.Image == nil {
			return "", "", mpErr(41006)
		}
		return MsgTypeImage, "[图片]", media(req.Image.MediaID)
	case "voice":
		if req.Voice == nil {
			return "", "", mpErr(41006)
		}
		return MsgTypeVoice, "[语音]", media(req.Voice.MediaID)
	case "news":
		if req.News == nil || len(req.News.Articles) == 0 {
			return "", "", mpErr(44003)
		}
		if len(req.News.Articles) > 1 {
			return "", "", mpErr(45008)
		}
		return MsgTypeNews, "[链接] " + req.News.Articles[0].Title, nil
	case "miniprogrampage":
		p := req.MiniProgramPage
		switch {
		case p == nil || p.AppID == "":
			return "", "", mpErr(40166)
		case p.PagePath == "":
			return "", "", mpErr(40165)
		}
		return "miniprogrampage", "[小程序] " + p.Title, media(p.ThumbMediaID)
	}
	return "", "", mpErr(40008)
}

// serveCustomSend serves POST /cgi-bin/message/custom/send (text, image,
// voice, news with one article, miniprogrampage). Errors, in order: 40003
// (touser not of the app), 45015 (no interaction within 48 hours, or the
// user does not follow), 45047 (20 messages since the last interaction),
// 40008 (msgtype), 44004/45002 (text empty / over 2048 bytes), 40007
// (media_id unknown), 44003/45008 (news without / with more than one
// article), 40166/40165 (Mini Program appid / pagepath). Sent messages are
// added to the conversation log (via "custom").
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func (e *Emulator) serveCustomSend(w http.ResponseWriter, r *http.Request) {
	var req customSendRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
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
	if err := checkWindow(a, u, now, true); err != nil {
		e.writeAPIError(w, err)
		return
	}
	typ, text, err := e.customContent(a, &req, now)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	a.appendConversation(u.OpenID, ConversationEntry{
		Time: now, Direction: DirectionOut, Via: "custom", Type: typ, Text: text,
	})
	writeJSON(w, okBody)
}

// serveCustomTyping serves POST /cgi-bin/message/custom/typing
// {"touser","command":"Typing"|"CancelTyping"}: 40003 for an unknown user,
// 45015 outside the 48-hour window, 40097 for another command. It does not
// count against the 20 messages.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func (e *Emulator) serveCustomTyping(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ToUser  string `json:"touser"`
		Command string `json:"command"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil {
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
	if err := checkWindow(a, u, now, false); err != nil {
		e.writeAPIError(w, err)
		return
	}
	if req.Command != "Typing" && req.Command != "CancelTyping" {
		e.writeAPIError(w, apiErr(40097))
		return
	}
	writeJSON(w, okBody)
}

// CustomerServiceMessages returns the customer-service messages sent to
// openID of appID, oldest first (from the conversation log).
func (e *Emulator) CustomerServiceMessages(appID, openID string) ([]ConversationEntry, error) {
	log, err := e.Conversation(appID, openID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(log, func(en ConversationEntry) bool { return en.Via != "custom" }), nil
}
