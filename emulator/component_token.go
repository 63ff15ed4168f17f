package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"time"

	"github.com/wxkit/wxkit"
)

func init() {
	handle("/cgi-bin/component/api_component_token", (*Emulator).serveComponentToken)
}

// componentTokenReply is the answer of api_component_token.
type componentTokenReply struct {
	ComponentAccessToken string `json:"component_access_token"`
	ExpiresIn            int    `json:"expires_in"`
}

// serveComponentToken serves POST /cgi-bin/component/api_component_token
// {"component_appid","component_appsecret","component_verify_ticket"}.
// Errors, in order: 43002 not POST, 44002/47001 a missing or bad body,
// 41002 component_appid missing, 61011 an unknown component_appid, 41004
// component_appsecret missing, 40125 a wrong secret, 61006 a ticket that
// the platform never pushed (or one of another platform), 61005 a ticket
// older than Limits.ComponentTicketLifetime (12 h). Any ticket pushed
// within its lifetime works, not only the latest. Every success issues a
// new token valid for Limits.TokenLifetime (expires_in 7200); the one
// before stays valid for Limits.TokenOverlap (5 min), older ones end at
// once (40001), as with cgi-bin/token.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/ThirdParty/token/component_access_token.html
func (e *Emulator) serveComponentToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ComponentAppID     string `json:"component_appid"`
		ComponentAppSecret string `json:"component_appsecret"`
		Ticket             string `json:"component_verify_ticket"`
	}
	if !e.requireMethod(w, r, http.MethodPost) || !e.readJSONBody(w, r, &req) {
		return
	}
	if req.ComponentAppID == "" {
		e.writeErr(w, 41002)
		return
	}
	setCallApp(r, req.ComponentAppID)
	c := e.component(req.ComponentAppID)
	switch {
	case c == nil:
		e.writeAPIError(w, compErr(61011))
		return
	case req.ComponentAppSecret == "":
		e.writeErr(w, 41004)
		return
	case subtle.ConstantTimeCompare([]byte(req.ComponentAppSecret), []byte(c.cfg.Secret)) != 1:
		e.writeErr(w, 40125)
		return
	}
	now := e.Now()
	c.mu.Lock()
	issued, known := c.tickets[req.Ticket]
	c.mu.Unlock()
	switch {
	case req.Ticket == "" || !known:
		e.writeAPIError(w, compErr(61006))
		return
	case now.Sub(issued) >= e.cfg.Limits.ComponentTicketLifetime:
		e.writeAPIError(w, compErr(61005))
		return
	}
	tok := e.issueComponentToken(c, now)
	writeJSON(w, componentTokenReply{ComponentAccessToken: tok.value, ExpiresIn: int(e.cfg.Limits.TokenLifetime / time.Second)})
}

// issueComponentToken issues a component_access_token of c at now and
// ends the ones before it as cgi-bin/token does.
func (e *Emulator) issueComponentToken(c *component, now time.Time) *componentToken {
	tok := &componentToken{value: newTokenValue(), comp: c, expires: now.Add(e.cfg.Limits.TokenLifetime)}
	c.mu.Lock()
	prev, older := c.tokLatest, c.tokPrev
	c.tokLatest, c.tokPrev = tok, prev
	c.mu.Unlock()
	st := e.comp
	st.tokMu.Lock()
	for v, t := range st.tokens {
		if now.Sub(t.expires) > 24*time.Hour {
			delete(st.tokens, v)
		}
	}
	st.tokens[tok.value] = tok
	if prev != nil && (prev.revokedAt.IsZero() || now.Add(e.cfg.Limits.TokenOverlap).Before(prev.revokedAt)) {
		prev.revokedAt = now.Add(e.cfg.Limits.TokenOverlap)
	}
	if older != nil && (older.revokedAt.IsZero() || now.Before(older.revokedAt)) {
		older.revokedAt = now
	}
	st.tokMu.Unlock()
	e.stats.recordTokenFetch(c.cfg.AppID, statTokenComponent)
	return tok
}

// checkComponentToken evaluates a component_access_token at now: the
// platform it belongs to, or 41001 missing, 40014 malformed, 40001 unknown
// or superseded, 42001 expired.
func (e *Emulator) checkComponentToken(tok string, now time.Time) (*component, *wxkit.APIError) {
	if tok == "" {
		return nil, apiErr(41001)
	}
	if !wellFormedToken(tok) {
		return nil, apiErr(40014)
	}
	st := e.comp
	st.tokMu.Lock()
	t := st.tokens[tok]
	var revokedAt time.Time
	if t != nil {
		revokedAt = t.revokedAt
	}
	st.tokMu.Unlock()
	switch {
	case t == nil:
		return nil, apiErr(40001)
	case !now.Before(t.expires):
		return nil, apiErr(42001)
	case !revokedAt.IsZero() && !now.Before(revokedAt):
		return nil, apiErr(40001)
	}
	return t.comp, nil
}

// readJSONBody reads a JSON request body into v, answering 44002 (empty)
// or 47001 (not JSON) itself; it returns false when the call must stop.
func (e *Emulator) readJSONBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := readBody(r)
	switch {
	case err != nil:
		e.writeErr(w, 47001)
		return false
	case len(b) == 0:
		e.writeErr(w, 44002)
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		e.writeErr(w, 47001)
		return false
	}
	return true
}

// componentCall starts a call of an API that takes a
// component_access_token (query parameter component_access_token, or
// access_token as the newer documentation writes it): it checks the token,
// the method (POST) and the body, whose component_appid must be the
// token's platform (41002 missing, 61011 another). It decodes the body
// into v, answers errors itself and returns nil when the call must stop.
func (e *Emulator) componentCall(w http.ResponseWriter, r *http.Request, v any) *component {
	q := r.URL.Query()
	tok := q.Get("component_access_token")
	if tok == "" {
		tok = q.Get("access_token")
	}
	c, aerr := e.checkComponentToken(tok, e.Now())
	if aerr != nil {
		e.writeAPIError(w, aerr)
		return nil
	}
	setCallApp(r, c.cfg.AppID)
	if !e.requireMethod(w, r, http.MethodPost) {
		return nil
	}
	b, err := readBody(r)
	switch {
	case err != nil:
		e.writeErr(w, 47001)
		return nil
	case len(b) == 0:
		e.writeErr(w, 44002)
		return nil
	}
	var head struct {
		ComponentAppID string `json:"component_appid"`
	}
	if json.Unmarshal(b, &head) != nil || json.Unmarshal(b, v) != nil {
		e.writeErr(w, 47001)
		return nil
	}
	switch head.ComponentAppID {
	case "":
		e.writeErr(w, 41002)
		return nil
	case c.cfg.AppID:
		return c
	}
	e.writeAPIError(w, compErr(61011))
	return nil
}
