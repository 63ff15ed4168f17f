package emulator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The steps of the release check (全网发布接入检测), in the order they run.
const (
	// ReleaseStepTicket: a fresh component_verify_ticket is pushed to the
	// authorization event URL; the platform must answer "success".
	ReleaseStepTicket = "component_verify_ticket"
	// ReleaseStepEvent: an event (LOCATION) of a follower is pushed to the
	// account's message URL; the platform must reply, within the push
	// timeout, the text "<Event>from_callback" ("LOCATIONfrom_callback").
	ReleaseStepEvent = "event"
	// ReleaseStepText: the text TESTCOMPONENT_MSG_TYPE_TEXT is pushed; the
	// platform must reply the text TESTCOMPONENT_MSG_TYPE_TEXT_callback.
	ReleaseStepText = "text"
	// ReleaseStepAPIText: the text QUERY_AUTH_CODE:<code> is pushed, <code>
	// a fresh authorization code of the account; the platform must answer
	// with no reply (an empty body or "success"), then, within the time
	// limit, exchange the code with api_query_auth and send the follower
	// the customer-service message "<code>_from_api" through
	// cgi-bin/message/custom/send.
	ReleaseStepAPIText = "api_text"
)

// Texts of the release check.
const (
	releaseText         = "TESTCOMPONENT_MSG_TYPE_TEXT"
	releaseTextReply    = "TESTCOMPONENT_MSG_TYPE_TEXT_callback"
	releaseQueryPrefix  = "QUERY_AUTH_CODE:"
	releaseAPISuffix    = "_from_api"
	releaseEvent        = "LOCATION"
	releaseEventSuffix  = "from_callback"
	releasePollInterval = 5 * time.Millisecond
)

// DefaultReleaseCheckTimeout is how long the api_text step waits for the
// customer-service message.
const DefaultReleaseCheckTimeout = 10 * time.Second

// ErrNoMessageURL: the platform has no message URL (消息与事件接收URL).
var ErrNoMessageURL = errors.New("emulator: the platform has no message_url")

// ReleaseCheckResult is the outcome of a release check.
type ReleaseCheckResult struct {
	// Passed is true when every step passed.
	Passed bool               `json:"passed"`
	Steps  []ReleaseCheckStep `json:"steps"`
}

// ReleaseCheckStep is one step of a release check: Name is one of the
// ReleaseStep constants; Detail says what was sent and what came back.
type ReleaseCheckStep struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"`
}

// ReleaseCheck runs WeChat's release check (全网发布接入检测) of the
// platform componentAppID against its servers, with the account
// authorizerAppID as the test account and its first follower as the test
// user: the steps ReleaseStepTicket, ReleaseStepEvent, ReleaseStepText and
// ReleaseStepAPIText run in order, each reported even when an earlier one
// failed. Like WeChat's own test accounts, the account is authorized to
// the platform for the check if it was not (silently: no authorized event
// is pushed). The api_text step waits at most timeout
// (DefaultReleaseCheckTimeout when zero) or until ctx ends.
//
// Errors (nothing was run): ErrUnknownComponent, ErrUnknownApp,
// ErrNoMessageURL, ErrUnknownUser (the account has no follower),
// ErrNotAuthorized (the account's messages go to another platform, one it
// authorized later).
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/operation/thirdparty/releases_instructions.html
func (e *Emulator) ReleaseCheck(ctx context.Context, componentAppID, authorizerAppID string, timeout time.Duration) (*ReleaseCheckResult, error) {
	c := e.component(componentAppID)
	if c == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownComponent, componentAppID)
	}
	a := e.app(authorizerAppID)
	if a == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownApp, authorizerAppID)
	}
	if timeout <= 0 {
		timeout = DefaultReleaseCheckTimeout
	}
	a.mu.Lock()
	fan := ""
	for _, u := range a.users {
		if u.subscribed {
			fan = u.OpenID
			break
		}
	}
	a.mu.Unlock()
	if fan == "" {
		return nil, fmt.Errorf("%w: %s has no follower to act as the test user", ErrUnknownUser, authorizerAppID)
	}
	now := e.Now()
	c.mu.Lock()
	if c.messageURL == "" {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrNoMessageURL, componentAppID)
	}
	if c.auths[authorizerAppID] == nil {
		c.auths[authorizerAppID] = &authorization{
			appID: authorizerAppID, at: now, funcs: funcsOf(a),
			refreshToken: "refreshtoken@@@" + randomString(43, tokenAlphabet),
		}
	}
	c.mu.Unlock()
	if mc, _ := e.comp.messageComponent(authorizerAppID); mc != c && mc != nil {
		return nil, fmt.Errorf("%w: the messages of %s go to platform %s", ErrNotAuthorized, authorizerAppID, mc.cfg.AppID)
	}

	res := &ReleaseCheckResult{Passed: true}
	add := func(name string, passed bool, format string, args ...any) {
		res.Steps = append(res.Steps, ReleaseCheckStep{Name: name, Passed: passed, Detail: fmt.Sprintf(format, args...)})
		res.Passed = res.Passed && passed
	}

	// 1. The ticket.
	c.mu.Lock()
	hasPush := c.pushURL != ""
	c.mu.Unlock()
	if !hasPush {
		add(ReleaseStepTicket, false, "the platform has no push_url (授权事件接收URL)")
	} else if p := e.pushTicket(ctx, c); p.Acknowledged {
		add(ReleaseStepTicket, true, "pushed component_verify_ticket; answered success")
	} else {
		add(ReleaseStepTicket, false, "pushed component_verify_ticket: %s", p.Error)
	}

	// 2. An event, 3. a text: a passive reply is expected.
	want := releaseEvent + releaseEventSuffix
	r, err := e.Push(ctx, authorizerAppID, PushRequest{User: fan, Type: MsgTypeEvent, Event: releaseEvent})
	ok, detail := checkReleaseReply(r, err, want)
	add(ReleaseStepEvent, ok, "pushed the event %s: %s", releaseEvent, detail)
	r, err = e.Push(ctx, authorizerAppID, PushRequest{User: fan, Type: MsgTypeText, Content: releaseText})
	ok, detail = checkReleaseReply(r, err, releaseTextReply)
	add(ReleaseStepText, ok, "pushed the text %s: %s", releaseText, detail)

	// 4. QUERY_AUTH_CODE: no reply, then query_auth and a customer-service message.
	ok, detail = e.releaseAPIText(ctx, c, a, fan, timeout)
	add(ReleaseStepAPIText, ok, "%s", detail)
	return res, nil
}

// checkReleaseReply checks that a push got the passive text reply want.
func checkReleaseReply(r *PushResult, err error, want string) (bool, string) {
	switch {
	case err != nil:
		return false, "not delivered: " + err.Error()
	case r.Error != "":
		return false, r.Error
	case r.Reply == nil:
		return false, fmt.Sprintf("no reply, want the text %q", want)
	case r.Reply.Type != MsgTypeText || r.Reply.Content != want:
		return false, fmt.Sprintf("replied %s %q, want the text %q", r.Reply.Type, userSees(r.Reply), want)
	}
	return true, fmt.Sprintf("replied %q", want)
}

// releaseAPIText runs the api_text step with the follower fan of a.
func (e *Emulator) releaseAPIText(ctx context.Context, c *component, a *app, fan string, timeout time.Duration) (bool, string) {
	appID := a.cfg.AppID
	c.mu.Lock()
	code := c.newAuthCode(appID, e.Now())
	c.mu.Unlock()
	text := releaseQueryPrefix + code
	want := code + releaseAPISuffix
	r, err := e.Push(ctx, appID, PushRequest{User: fan, Type: MsgTypeText, Content: text})
	switch {
	case err != nil:
		return false, "pushed " + text + ": not delivered: " + err.Error()
	case r.Error != "":
		return false, "pushed " + text + ": " + r.Error
	case r.Reply != nil:
		return false, fmt.Sprintf("pushed %s: replied %s %q, want an empty reply (then the answer through the API)", text, r.Reply.Type, userSees(r.Reply))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(releasePollInterval)
	defer tick.Stop()
	for {
		exchanged := false
		c.mu.Lock()
		if ac := c.codes[code]; ac != nil {
			exchanged = ac.exchanges > 0
		}
		c.mu.Unlock()
		sent, found := releaseCustomAfter(e, appID, fan, text)
		if found {
			switch {
			case sent != want:
				return false, fmt.Sprintf("pushed %s: the customer-service message is %q, want %q", text, sent, want)
			case !exchanged:
				return false, fmt.Sprintf("pushed %s: the customer-service message came, but the code was never exchanged with api_query_auth (the message must be sent with the authorizer_access_token it gives)", text)
			}
			return true, fmt.Sprintf("pushed %s: no reply; api_query_auth exchanged the code; customer-service message %q sent", text, want)
		}
		select {
		case <-ctx.Done():
			q := "never called"
			if exchanged {
				q = "called"
			}
			return false, fmt.Sprintf("pushed %s: no reply; within %s no customer-service message %q came (api_query_auth with the code: %s)", text, timeout, want, q)
		case <-tick.C:
		}
	}
}

// releaseCustomAfter returns the first customer-service message sent to fan
// after the push of text, if any.
func releaseCustomAfter(e *Emulator, appID, fan, text string) (string, bool) {
	log, err := e.Conversation(appID, fan)
	if err != nil {
		return "", false
	}
	i := len(log) - 1
	for ; i >= 0; i-- {
		if log[i].Direction == DirectionIn && log[i].Text == text {
			break
		}
	}
	if i < 0 {
		return "", false
	}
	for _, en := range log[i+1:] {
		if en.Direction == DirectionOut && en.Via == "custom" {
			return strings.TrimSpace(en.Text), true
		}
	}
	return "", false
}
