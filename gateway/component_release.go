package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/openplatform"
	"github.com/wxkit/wxkit/store"
)

// The release check (全网发布接入检测): before a component may serve every
// account, WeChat pushes test messages to an account it authorizes
// silently and checks the answers.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/operation/thirdparty/releases_instructions.html
const (
	releaseText        = "TESTCOMPONENT_MSG_TYPE_TEXT"
	releaseTextReply   = "TESTCOMPONENT_MSG_TYPE_TEXT_callback"
	releaseQueryPrefix = "QUERY_AUTH_CODE:"
	releaseAPISuffix   = "_from_api"
	releaseEventSuffix = "from_callback"
)

// releaseTestAccounts are WeChat's release-check test accounts (AppIDs
// and original ids), which get the release-check answer to every event.
var releaseTestAccounts = map[string]bool{
	"wx570bc396a51b8ff8": true, "wxd101a85aa106f53e": true, // Mini Program, Official Account
	"gh_3c884a361561": true, "gh_8dad206e9538": true,
}

// JobComponentAPIText is the outbox job kind of the release check's
// QUERY_AUTH_CODE step: exchange the code, then send "<code>_from_api"
// through the customer-service API with the authorizer's token.
const JobComponentAPIText = "component_api_text"

// componentAPIText is the payload of a JobComponentAPIText job.
type componentAPIText struct {
	ComponentAppID  string `json:"component_appid"`
	AuthorizerAppID string `json:"authorizer_appid"`
	OpenID          string `json:"openid"`
	AuthCode        string `json:"auth_code"`
}

// componentAPITextRetries are the pauses after failed attempts at a
// JobComponentAPIText job; it is given up after the last.
var componentAPITextRetries = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute}

// releaseCheckReply answers the release check's messages, and reports
// false for any other message (authorizer_replies answer it):
//
//   - text TESTCOMPONENT_MSG_TYPE_TEXT: the text TESTCOMPONENT_MSG_TYPE_TEXT_callback;
//   - text QUERY_AUTH_CODE:<code>: no reply now ("success"); a
//     JobComponentAPIText job exchanges the code (api_query_auth) and sends
//     the user "<code>_from_api" through the customer-service API;
//   - an event, for one of WeChat's test accounts or an account that is
//     not a stored authorizer (the check authorizes its account silently):
//     the text "<Event>from_callback".
func (g *Gateway) releaseCheckReply(ctx context.Context, cs *componentState, authorizer string, m *message.Message) (message.Reply, bool, error) {
	switch {
	case m.MsgType == message.MsgTypeText && m.Content == releaseText:
		return &message.Text{Content: releaseTextReply}, true, nil
	case m.MsgType == message.MsgTypeText && strings.HasPrefix(m.Content, releaseQueryPrefix):
		code := strings.TrimSpace(strings.TrimPrefix(m.Content, releaseQueryPrefix))
		if code == "" {
			return nil, false, nil
		}
		return nil, true, g.enqueueAPIText(ctx, cs, authorizer, m, code)
	case m.MsgType == message.MsgTypeEvent && m.Event != "":
		if !releaseTestAccounts[authorizer] && !releaseTestAccounts[m.ToUserName] {
			_, err := cs.comp.Authorizer(ctx, authorizer)
			if !errors.Is(err, store.ErrNotFound) {
				return nil, false, nil // a stored account (or the store failed): its own replies
			}
		}
		return &message.Text{Content: string(m.Event) + releaseEventSuffix}, true, nil
	}
	return nil, false, nil
}

// enqueueAPIText queues the QUERY_AUTH_CODE step's job (one per message).
func (g *Gateway) enqueueAPIText(ctx context.Context, cs *componentState, authorizer string, m *message.Message, code string) error {
	payload, err := json.Marshal(componentAPIText{ComponentAppID: cs.cfg.AppID, AuthorizerAppID: authorizer, OpenID: m.FromUserName, AuthCode: code})
	if err != nil {
		return err
	}
	now := g.now()
	job := &store.Job{Kind: JobComponentAPIText, Key: cs.cfg.AppID + "/" + authorizer + "/" + m.DedupKey(), Payload: payload,
		RunAt: now, Created: now, NotAfter: now.Add(openplatformCodeWindow)}
	if err := g.stores.Outbox.EnqueueJob(ctx, job); err != nil {
		return fmt.Errorf("gateway: component %s: queueing QUERY_AUTH_CODE in the outbox: %w", cs.cfg.AppID, err)
	}
	g.comps.apiTxt.wake()
	return nil
}

// openplatformCodeWindow is how long after the message a QUERY_AUTH_CODE
// job is still run (authorization codes live one hour).
const openplatformCodeWindow = 30 * time.Minute

// startComponentJobs starts the drainer of JobComponentAPIText jobs.
func (g *Gateway) startComponentJobs() {
	g.comps.apiTxt = &drainer{
		outbox: g.stores.Outbox,
		kind:   JobComponentAPIText,
		run:    g.runAPIText,
		retry:  backoffSchedule(componentAPITextRetries...),
		now:    g.now,
		logger: g.logger,
		hooks:  g.ops.metrics.drainHooks(), // metrics.go
	}
	g.comps.apiTxt.start()
}

// runAPIText runs one JobComponentAPIText job.
func (g *Gateway) runAPIText(ctx context.Context, j *store.Job) error {
	var p componentAPIText
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return permanent(fmt.Errorf("gateway: QUERY_AUTH_CODE job: bad payload: %w", err))
	}
	cs := g.comps.byID[p.ComponentAppID]
	if cs == nil {
		return permanent(fmt.Errorf("gateway: QUERY_AUTH_CODE job: component %s is not configured", p.ComponentAppID))
	}
	a, err := cs.comp.QueryAuth(ctx, p.AuthCode)
	switch {
	case errors.Is(err, openplatform.ErrCodeInvalid), errors.Is(err, openplatform.ErrCodeExpired):
		return permanent(fmt.Errorf("gateway: QUERY_AUTH_CODE of %s: %w", p.AuthorizerAppID, err))
	case err != nil:
		return fmt.Errorf("gateway: QUERY_AUTH_CODE of %s: %w", p.AuthorizerAppID, err)
	}
	c, err := g.AuthorizerMPClient(p.ComponentAppID, a.AuthorizerAppID)
	if err != nil {
		return permanent(err)
	}
	if err := c.CustomerService().SendText(ctx, p.OpenID, p.AuthCode+releaseAPISuffix); err != nil {
		return fmt.Errorf("gateway: QUERY_AUTH_CODE of %s: customer-service message: %w", a.AuthorizerAppID, err)
	}
	g.logger.LogAttrs(ctx, slog.LevelInfo, "component: release check QUERY_AUTH_CODE answered through the customer-service API",
		slog.String("component_appid", p.ComponentAppID), slog.String("authorizer_appid", a.AuthorizerAppID))
	return nil
}
