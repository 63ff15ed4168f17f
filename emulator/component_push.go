package emulator

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wxkit/wxkit/wxcrypto"
)

// InfoTypes of the pushes to a platform's authorization event URL.
const (
	InfoTypeComponentVerifyTicket = "component_verify_ticket"
	InfoTypeAuthorized            = "authorized"
	InfoTypeUpdateAuthorized      = "updateauthorized"
	InfoTypeUnauthorized          = "unauthorized"
)

// pushTargetOf returns where the messages of a go: while a is authorized
// to a third-party platform with a message URL, that URL ($APPID$
// replaced), always XML in safe mode, signed with the platform's Token and
// encrypted with its key, the ciphertext carrying the platform's AppID (as
// the real platform does: the account's own server settings no longer
// apply); else a's own push URL, mode, Token and key.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/message_push.html
func (e *Emulator) pushTargetOf(a *app) pushTarget {
	if c, target := e.comp.messageComponent(a.cfg.AppID); c != nil {
		return pushTarget{url: target, mode: ModeSafe, token: c.cfg.Token, cipher: c.cipher}
	}
	a.mu.Lock()
	u := a.pushURL
	a.mu.Unlock()
	mp := a.cfg.Type == AppTypeMiniProgram
	return pushTarget{
		url: u, mode: a.cfg.Mode, token: a.cfg.Token, cipher: a.cipher,
		miniProgram: mp, json: mp && a.cfg.PushFormat == PushFormatJSON,
	}
}

// componentPushRequest builds one delivery of plain to pushURL as the
// platform pushes to an authorization event URL: the query carries
// signature, timestamp, nonce, encrypt_type=aes and msg_signature; the
// body is <xml><AppId/><Encrypt/></xml>, encrypted with the platform's key.
func (e *Emulator) componentPushRequest(ctx context.Context, c *component, pushURL, plain string) (*http.Request, error) {
	ts := strconv.FormatInt(e.Now().Unix(), 10)
	nonce := strconv.Itoa(randomInt(100000000, 2147483647))
	enc, err := c.cipher.Encrypt([]byte(plain))
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	tok := c.cfg.Token
	q := "signature=" + wxcrypto.Signature(tok, ts, nonce) + "&timestamp=" + ts + "&nonce=" + nonce +
		"&encrypt_type=aes&msg_signature=" + wxcrypto.MsgSignature(tok, ts, nonce, enc)
	var x xmlBuilder
	x.b.WriteString("<xml>")
	x.cdata("AppId", c.cfg.AppID)
	x.cdata("Encrypt", enc)
	x.b.WriteString("</xml>")
	target, err := url.Parse(pushURL)
	if err != nil {
		return nil, fmt.Errorf("push_url: %w", err)
	}
	if target.RawQuery != "" {
		target.RawQuery += "&" + q
	} else {
		target.RawQuery = q
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(x.b.Bytes()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("User-Agent", "Mozilla/4.0")
	return req, nil
}

// pushComponent delivers p.XML to the authorization event URL of c, with
// the retries of a message push, records the outcome in c's push log and
// stats, and returns it. Without a push URL nothing is delivered and the
// push is recorded with an error.
func (e *Emulator) pushComponent(ctx context.Context, c *component, p ComponentPush) ComponentPush {
	c.mu.Lock()
	pushURL := c.pushURL
	c.mu.Unlock()
	p.Attempts = []Attempt{}
	if pushURL == "" {
		p.Error = "the platform has no push_url (授权事件接收URL)"
		c.recordPush(p)
		return p
	}
	build := func(ctx context.Context) (*http.Request, error) {
		return e.componentPushRequest(ctx, c, pushURL, p.XML)
	}
	var body []byte
	answered := false
	for i := 0; i < e.cfg.Push.Attempts && ctx.Err() == nil; i++ {
		att, b, retry := e.deliver(ctx, build)
		p.Attempts = append(p.Attempts, att)
		if !retry {
			body, answered = b, att.Error == ""
			break
		}
	}
	switch {
	case len(p.Attempts) == 0:
		p.Error = "not delivered: " + context.Cause(ctx).Error()
	case !answered:
		p.Error = fmt.Sprintf("no valid answer after %d deliveries: %s", len(p.Attempts), p.Attempts[len(p.Attempts)-1].Error)
	case strings.TrimSpace(string(body)) != "success":
		p.Error = fmt.Sprintf("answer %q, want \"success\"", truncate(string(body), 200))
	default:
		p.Acknowledged = true
	}
	c.recordPush(p)
	e.stats.recordComponentPush(c.cfg.AppID, p.InfoType, len(p.Attempts), p.Acknowledged)
	return p
}

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// componentEventXML renders the plaintext of a push to the platform c:
// AppId, CreateTime and InfoType, then the fields kv (name, value pairs).
func componentEventXML(c *component, infoType string, now time.Time, kv ...string) string {
	var x xmlBuilder
	x.b.WriteString("<xml>")
	x.cdata("AppId", c.cfg.AppID)
	x.num("CreateTime", strconv.FormatInt(now.Unix(), 10))
	x.cdata("InfoType", infoType)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "AuthorizationCodeExpiredTime" {
			x.num(kv[i], kv[i+1])
			continue
		}
		x.cdata(kv[i], kv[i+1])
	}
	x.b.WriteString("</xml>")
	return x.b.String()
}

// issueTicket creates a new component_verify_ticket of c at now; it is
// usable for Limits.ComponentTicketLifetime.
func (e *Emulator) issueTicket(c *component, now time.Time) string {
	t := "ticket@@@" + randomString(86, tokenAlphabet)
	c.mu.Lock()
	defer c.mu.Unlock()
	// Tickets far past their lifetime are forgotten (and answer 61006).
	for k, at := range c.tickets {
		if now.Sub(at) > e.cfg.Limits.ComponentTicketLifetime+30*24*time.Hour {
			delete(c.tickets, k)
		}
	}
	c.tickets[t] = now
	c.ticket, c.ticketAt = t, now
	return t
}

// pushTicket issues a ticket and pushes it to c.
func (e *Emulator) pushTicket(ctx context.Context, c *component) ComponentPush {
	now := e.Now()
	t := e.issueTicket(c, now)
	return e.pushComponent(ctx, c, ComponentPush{
		At: now, InfoType: InfoTypeComponentVerifyTicket, Ticket: t,
		XML: componentEventXML(c, InfoTypeComponentVerifyTicket, now, "ComponentVerifyTicket", t),
	})
}

// PushComponentTicket issues a fresh component_verify_ticket of
// componentAppID and pushes it now, as the platform does every
// Limits.ComponentTicketInterval; the schedule is not changed. Errors:
// ErrUnknownComponent, ErrNoPushURL (no ticket is issued). A push that is
// not acknowledged is reported in the result: its ticket is valid all the
// same.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/component_verify_ticket.html
func (e *Emulator) PushComponentTicket(ctx context.Context, componentAppID string) (*ComponentPush, error) {
	c := e.component(componentAppID)
	if c == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownComponent, componentAppID)
	}
	c.mu.Lock()
	has := c.pushURL != ""
	c.mu.Unlock()
	if !has {
		return nil, fmt.Errorf("%w: component %s", ErrNoPushURL, componentAppID)
	}
	p := e.pushTicket(ctx, c)
	return &p, nil
}

// scheduleTicket schedules the next ticket push of c, a ticket interval
// from now.
func (e *Emulator) scheduleTicket(c *component) {
	due := e.Now().Add(e.cfg.Limits.ComponentTicketInterval)
	c.mu.Lock()
	c.nextTicket = due
	c.mu.Unlock()
	e.comp.sched.at(due, func(time.Time) { e.scheduledTicket(c) })
}

// scheduledTicket is a scheduled ticket push of c: it schedules the next
// one, then pushes a fresh ticket when c has a push URL. When the clock
// jumps over several intervals, one ticket is pushed, not one per interval
// missed.
func (e *Emulator) scheduledTicket(c *component) {
	e.scheduleTicket(c)
	c.mu.Lock()
	has := c.pushURL != ""
	c.mu.Unlock()
	if has {
		e.pushTicket(context.Background(), c)
	}
}

// WaitComponentPushes blocks until no scheduled ticket push is being
// delivered, or ctx ends (then it returns ctx's error). Tests call it after
// Advance to see a ticket push's outcome.
func (e *Emulator) WaitComponentPushes(ctx context.Context) error { return e.comp.sched.wait(ctx) }
