package emulator

import (
	"net/http"
	"time"
)

// ticketRecord is the current ticket of one type for one app.
type ticketRecord struct {
	value   string
	issued  time.Time
	expires time.Time
}

func init() {
	handle("/cgi-bin/ticket/getticket", (*Emulator).serveGetTicket)
}

// ticketReply is the answer of getticket.
type ticketReply struct {
	ErrCode   int    `json:"errcode"`
	ErrMsg    string `json:"errmsg"`
	Ticket    string `json:"ticket"`
	ExpiresIn int    `json:"expires_in"`
}

// serveGetTicket serves GET /cgi-bin/ticket/getticket?access_token&type=jsapi
// (or type=wx_card). It returns the same ticket while it is valid and a new
// one after Limits.TicketLifetime (7200 s). Like the real platform (as its
// users report), expires_in is always the full lifetime (7200), not the time
// left, so a client that caches for expires_in seconds may hold a ticket a
// little past its end; the previous ticket stays acceptable for
// Limits.TokenOverlap after it is replaced (see validTicket).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html#62
func (e *Emulator) serveGetTicket(w http.ResponseWriter, r *http.Request) {
	a, err := e.requireToken(r)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	typ := r.URL.Query().Get("type")
	if typ != "jsapi" && typ != "wx_card" {
		e.writeErr(w, 40097)
		return
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.tickets[typ]
	if t == nil || !now.Before(t.expires) {
		t = &ticketRecord{
			// Real tickets are 86 base64url-like characters.
			value:   randomString(86, tokenAlphabet),
			issued:  now,
			expires: now.Add(e.cfg.Limits.TicketLifetime),
		}
		if old := a.tickets[typ]; old != nil {
			a.tickets[typ+":prev"] = old
		}
		a.tickets[typ] = t
	}
	writeJSON(w, ticketReply{ErrCode: 0, ErrMsg: "ok", Ticket: t.value, ExpiresIn: int(e.cfg.Limits.TicketLifetime / time.Second)})
}

// validTicket reports whether ticket is the current ticket of type typ
// ("jsapi", "wx_card") for appID, or the previous one within
// Limits.TokenOverlap after its expiry. For routes that check JS-SDK
// signatures.
func (e *Emulator) validTicket(appID, typ, ticket string) bool {
	a := e.app(appID)
	if a == nil || ticket == "" {
		return false
	}
	now := e.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range []string{typ, typ + ":prev"} {
		if t := a.tickets[k]; t != nil && t.value == ticket && now.Before(t.expires.Add(e.cfg.Limits.TokenOverlap)) {
			return true
		}
	}
	return false
}
