package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/wxcrypto"
)

// Errors of Push about the request itself (no delivery was tried).
var (
	// ErrUnknownApp: the appid is not hosted by the emulator.
	ErrUnknownApp = errors.New("emulator: unknown appid")
	// ErrUnknownUser: the openid is not a user of the app, or the app has none.
	ErrUnknownUser = errors.New("emulator: unknown user")
	// ErrNoPushURL: the app has no push URL configured.
	ErrNoPushURL = errors.New("emulator: app has no push_url")
	// ErrNotSubscribed: a user who does not follow the account cannot send
	// it messages (events such as subscribe are allowed).
	ErrNotSubscribed = errors.New("emulator: user does not follow the account")
	// ErrBadPushRequest: the PushRequest is invalid.
	ErrBadPushRequest = errors.New("emulator: bad push request")
)

// Attempt is one HTTP delivery of a pushed message.
type Attempt struct {
	// Status is the HTTP status of the answer (0 when there was none).
	Status int `json:"status"`
	// Duration is how long the delivery took.
	Duration Duration `json:"duration"`
	// Error tells why the delivery failed: timeout, connection error, 5xx.
	Error string `json:"error,omitempty"`
	// Body is the answer body (at most 64 KiB are kept).
	Body string `json:"body,omitempty"`
}

// PushResult reports what happened to a pushed message.
type PushResult struct {
	AppID string `json:"appid"`
	User  string `json:"user"`
	// Message is what was pushed (the same MsgId and CreateTime in every
	// delivery).
	Message *InboundMessage `json:"message"`
	// Attempts are the deliveries in order; retries follow a timeout, a
	// connection error or a 5xx answer, up to PushConfig.Attempts in total.
	Attempts []Attempt `json:"attempts"`
	// Reply is the valid passive reply, nil for none.
	Reply *Reply `json:"reply,omitempty"`
	// NoReply is true when the server answered "success" or an empty body.
	NoReply bool `json:"no_reply"`
	// UserSees is what the WeChat client shows the user: the reply text, a
	// summary of a media reply, "" for nothing, or ServiceUnavailableText.
	UserSees string `json:"user_sees"`
	// Error is why the user sees ServiceUnavailableText: no answer, bad HTTP
	// status or an invalid reply. Empty on success.
	Error string `json:"error,omitempty"`
	// Blocked is true when the account has blacklisted the user: the
	// message was not delivered (no Attempts) and the user sees nothing.
	// Following and unfollowing are delivered all the same.
	Blocked bool `json:"blocked,omitempty"`
	// RoutedTo is the customer-service account (kf_account) the message
	// was forwarded to instead of the push URL: the user is in a session
	// with that worker (no Attempts; the user sees nothing now).
	RoutedTo string `json:"routed_to,omitempty"`
}

// OK reports whether the message was delivered, the server answered and
// the answer was valid.
func (r *PushResult) OK() bool { return r.Error == "" && !r.Blocked }

// maxReplyBody caps the answer of a push that is read.
const maxReplyBody = 1 << 20

// Push makes a user of appID send a message or cause an event, delivers it
// to the app's push URL the way WeChat does and reports the outcome.
//
// The message is built as WeChat builds it (ToUserName = the account's
// original id, FromUserName = the openid, CreateTime = the emulator's time,
// a MsgId for normal messages), signed and, in compat and safe mode,
// encrypted. Each delivery waits PushConfig.Timeout (5 s); a timeout, a
// connection error or a 5xx answer leads to a new delivery of the same
// message (same MsgId and CreateTime, new timestamp and nonce), up to
// PushConfig.Attempts (3) deliveries in all. The answer is then validated
// (see PushResult). The exchange is appended to the conversation log.
//
// The error is non-nil only when nothing could be delivered: ErrUnknownApp,
// ErrUnknownUser, ErrNoPushURL, ErrNotSubscribed, ErrBadPushRequest, or
// ctx's error. A failed delivery or a bad reply is reported in the result.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
func (e *Emulator) Push(ctx context.Context, appID string, req PushRequest) (*PushResult, error) {
	a := e.app(appID)
	if a == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownApp, appID)
	}
	now := e.Now()
	tgt := e.pushTargetOf(a)
	pushURL := tgt.url
	a.mu.Lock()
	var u *user
	if req.User == "" {
		if len(a.users) > 0 {
			u = a.users[0]
		}
	} else {
		u = a.user(req.User)
	}
	if u == nil {
		a.mu.Unlock()
		return nil, fmt.Errorf("%w: %q of app %s", ErrUnknownUser, req.User, appID)
	}
	openID := u.OpenID
	subscribed := u.subscribed
	blocked := a.blacklisted(openID)
	a.msgSeq++
	// Real MsgIds are CreateTime<<32 | a per-account sequence.
	msgID := now.Unix()<<32 | int64(uint32(a.msgSeq))
	a.mu.Unlock()
	if pushURL == "" {
		return nil, fmt.Errorf("%w: %s", ErrNoPushURL, appID)
	}
	if req.RawXML == "" && req.MenuID == "" && (req.Event == EventTypeClick || req.Event == EventTypeView) {
		// A tap on a menu button carries the menuid of the menu the user sees.
		if m, err := e.MenuFor(appID, openID); err == nil && m != nil {
			req.MenuID = strconv.FormatInt(m.MenuID, 10)
		}
	}

	var in *InboundMessage
	var err error
	if req.RawXML != "" {
		in, err = buildRawInbound(req.RawXML, a.cfg.OriginalID, openID, now)
	} else {
		in, err = buildInbound(&req, a.cfg.OriginalID, openID, now, msgID)
	}
	if err != nil {
		return nil, err
	}
	if !subscribed && in.MsgType != MsgTypeEvent {
		return nil, fmt.Errorf("%w: %s", ErrNotSubscribed, openID)
	}
	if blocked && blocksPush(in) {
		return e.blockedPush(a, in, now), nil
	}
	if res := e.routeToKf(a, in, now); res != nil {
		return res, nil // in a customer-service session (mp_kf.go)
	}
	if tgt.json {
		if in.JSON, err = pushJSON(in.XML); err != nil {
			return nil, err
		}
	}
	if in.MsgType == MsgTypeEvent {
		a.mu.Lock()
		was := u.subscribed
		switch in.Event {
		case EventTypeSubscribe:
			u.subscribed, u.subscribeTime = true, now
		case EventTypeUnsubscribe:
			u.subscribed = false
		}
		recordFollow(a, u, was, in, now)
		a.mu.Unlock()
	}

	res := &PushResult{AppID: appID, User: openID, Message: in}
	// The message counts as the user's interaction (the customer-service
	// window opens) from the moment it is sent, not once it is answered:
	// a server may send a customer-service message before it replies.
	e.logInbound(a, in, now)
	recordInbound(a, in, now)
	build := func(ctx context.Context) (*http.Request, error) { return e.signedPushRequest(ctx, tgt, in) }
	var body []byte
	var answered bool
	for i := 0; i < e.cfg.Push.Attempts; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		att, b, retry := e.deliver(ctx, build)
		res.Attempts = append(res.Attempts, att)
		if !retry {
			body, answered = b, att.Error == ""
			break
		}
	}
	switch {
	case !answered:
		last := res.Attempts[len(res.Attempts)-1]
		res.Error = fmt.Sprintf("no valid answer after %d deliveries: %s", len(res.Attempts), last.Error)
	default:
		rep, verr := validateReply(a, tgt, in, body)
		switch {
		case verr != nil:
			res.Error = verr.Error()
		case rep == nil:
			res.NoReply = true
		default:
			res.Reply = rep
			res.UserSees = userSees(rep)
		}
	}
	if res.Error != "" {
		res.UserSees = unavailableText(a)
	}
	e.stats.recordPush(appID, len(res.Attempts), res.Error != "")
	recordDeliveries(a, res.Attempts, now)
	e.logConversation(a, in, res, now)
	return res, nil
}

// deliver makes one HTTP delivery of the request build makes (a fresh
// timestamp and nonce each time). It returns the attempt, the answer body,
// and whether WeChat would deliver again (timeout, connection error, 5xx).
// A non-2xx answer that is not retried is reported in Attempt.Error.
func (e *Emulator) deliver(ctx context.Context, build func(context.Context) (*http.Request, error)) (Attempt, []byte, bool) {
	req, err := build(ctx)
	if err != nil {
		return Attempt{Error: err.Error()}, nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Push.Timeout)
	defer cancel()
	req = req.WithContext(ctx)
	start := time.Now()
	resp, err := e.client.Do(req)
	var body []byte
	if err == nil {
		body, err = wxkit.ReadLimited(resp.Body, maxReplyBody)
		_ = resp.Body.Close()
	}
	att := Attempt{Duration: Duration(time.Since(start))}
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			att.Error = fmt.Sprintf("timeout: no answer within %s", e.cfg.Push.Timeout)
		} else {
			att.Error = "connection error: " + err.Error()
		}
		if resp != nil {
			att.Status = resp.StatusCode
		}
		return att, nil, true
	}
	att.Status = resp.StatusCode
	att.Body = string(body[:min(len(body), 64<<10)])
	switch {
	case resp.StatusCode >= 500:
		att.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
		return att, nil, true
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		att.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
		return att, nil, false
	}
	return att, body, false
}

// pushTarget is where and how the messages of one account are pushed: its
// own push URL, mode, Token and key, or, while it is authorized to a
// third-party platform with a message URL, that URL in safe mode with the
// platform's Token and key (see pushTargetOf).
type pushTarget struct {
	url    string
	mode   Mode
	token  string
	cipher *wxcrypto.Cipher // nil in plain mode without a key; its AppID goes into ciphertexts
	// miniProgram: the account is a Mini Program pushed directly (replies
	// are checked as a Mini Program's); json: its pushes are JSON.
	miniProgram bool
	json        bool
}

// signedPushRequest builds the POST of one delivery in the target's mode,
// with a fresh timestamp and nonce:
//
//	plain:  ?signature&timestamp&nonce&openid, body = message XML
//	compat: ... &encrypt_type=aes&msg_signature, body = message XML + <Encrypt>
//	safe:   ... &encrypt_type=aes&msg_signature, body = <xml><ToUserName/><Encrypt/></xml>
//
// A Mini Program in JSON format gets the same in JSON (see pushJSONBody).
func (e *Emulator) signedPushRequest(ctx context.Context, tgt pushTarget, in *InboundMessage) (*http.Request, error) {
	ts := strconv.FormatInt(e.Now().Unix(), 10)
	nonce := strconv.Itoa(randomInt(100000000, 2147483647))
	tok := tgt.token
	q := "signature=" + wxcrypto.Signature(tok, ts, nonce) + "&timestamp=" + ts + "&nonce=" + nonce +
		"&openid=" + url.QueryEscape(in.FromUserName)
	payload := in.XML
	if tgt.json {
		payload = in.JSON
	}
	var body []byte
	switch tgt.mode {
	case ModePlain:
		body = []byte(payload)
	case ModeCompat, ModeSafe:
		enc, err := tgt.cipher.Encrypt([]byte(payload))
		if err != nil {
			return nil, fmt.Errorf("encrypt: %w", err)
		}
		q += "&encrypt_type=aes&msg_signature=" + wxcrypto.MsgSignature(tok, ts, nonce, enc)
		if tgt.json {
			body = pushJSONBody(tgt.mode, in, enc)
			break
		}
		var x xmlBuilder
		if tgt.mode == ModeCompat {
			x.b.WriteString(strings.TrimSuffix(in.XML, "</xml>"))
		} else {
			x.b.WriteString("<xml>")
			x.cdata("ToUserName", in.ToUserName)
		}
		x.cdata("Encrypt", enc)
		x.b.WriteString("</xml>")
		body = x.b.Bytes()
	}
	target, err := url.Parse(tgt.url)
	if err != nil {
		return nil, fmt.Errorf("push_url: %w", err)
	}
	if target.RawQuery != "" {
		target.RawQuery += "&" + q
	} else {
		target.RawQuery = q
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if tgt.json {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "text/xml")
	}
	req.Header.Set("User-Agent", "Mozilla/4.0")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Pragma", "no-cache")
	return req, nil
}

// SetPushURL sets (or, with "", clears) the push URL of appID, e.g. once a
// test server's address is known.
func (e *Emulator) SetPushURL(appID, pushURL string) error {
	a := e.app(appID)
	if a == nil {
		return fmt.Errorf("%w: %q", ErrUnknownApp, appID)
	}
	if pushURL != "" {
		u, err := url.Parse(pushURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("emulator: push_url must be an absolute http(s) URL, got %q", pushURL)
		}
	}
	a.mu.Lock()
	a.pushURL = pushURL
	a.mu.Unlock()
	return nil
}
