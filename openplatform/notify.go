package openplatform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/wxcrypto"
)

// Event is an authorization event after the Component handled it.
type Event struct {
	// InfoType is authorized, updateauthorized or unauthorized.
	InfoType        message.InfoType
	AuthorizerAppID string
	// Authorization is the query_auth result of an authorized or
	// updateauthorized event (the authorizer is stored); nil for
	// unauthorized.
	Authorization *Authorization
	// Message is the push as received.
	Message *message.Message
}

// Hooks are the application's functions called by the authorization-event
// handler (NotifyServer) after it handled a push. Each is optional. Their
// errors are logged by the webhook.Server, which answers "success" all the
// same (WeChat does not retry); the Component's own work is done by then.
type Hooks struct {
	// OnTicket is called after a component_verify_ticket was stored.
	OnTicket func(ctx context.Context, m *message.Message) error
	// OnAuthorized is called after an authorized event's code was
	// exchanged and the authorizer stored.
	OnAuthorized func(ctx context.Context, e *Event) error
	// OnUpdateAuthorized is the same for an updateauthorized event (the
	// account changed the permission sets it grants).
	OnUpdateAuthorized func(ctx context.Context, e *Event) error
	// OnUnauthorized is called after an unauthorized event was recorded
	// (the authorizer kept with Authorized false, its tokens dropped).
	OnUnauthorized func(ctx context.Context, e *Event) error
	// OnOther receives pushes of other InfoTypes (fast registration
	// results, name checks, ...), which the Component does not handle.
	OnOther func(ctx context.Context, m *message.Message) error
}

// NotifyServer returns the receiver of the component's authorization event
// URL (授权事件接收 URL), an http.Handler for POST pushes, all encrypted
// with the component's message token and EncodingAESKey (safe mode: a
// plaintext push is refused with 403, and so is a push whose ciphertext
// carries another AppID than the component's). For each push it
//
//   - component_verify_ticket: keeps the ticket as the latest
//     (StoreTicket), valid 12 hours from its CreateTime;
//   - authorized, updateauthorized: exchanges the AuthorizationCode
//     (QueryAuth), which stores the authorizer and its refresh token;
//   - unauthorized: keeps the authorizer with Authorized false, drops its
//     refresh token and cached tokens;
//
// then calls the matching Hook, and answers "success". A push whose <AppId>
// is not the component's is refused (ErrForeignComponent, logged) and
// nothing of it is stored. Configure the returned Server further (Dedup,
// Recorder, Observer, Logger) before serving; do not change its AppID,
// Token, EncodingAESKey, Mode or Handler. Each call returns a new Server.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/authorize_event.html
func (c *Component) NotifyServer() *webhook.Server {
	return &webhook.Server{
		AppID:          c.appID,
		Token:          c.token,
		EncodingAESKey: c.aesKey,
		Mode:           webhook.ModeSafe,
		Handler:        webhook.HandlerFunc(c.serveNotify),
		Logger:         c.cfg.logger,
		Now:            c.cfg.now,
	}
}

// HandleNotify handles one decrypted authorization-event push as
// NotifyServer's handler does (for a push received another way).
func (c *Component) HandleNotify(ctx context.Context, m *message.Message) error {
	_, err := c.serveNotify(ctx, m)
	return err
}

// serveNotify is the Handler of NotifyServer.
func (c *Component) serveNotify(ctx context.Context, m *message.Message) (message.Reply, error) {
	if m.InfoType == "" {
		return nil, errors.New("openplatform: not an authorization event (no InfoType)")
	}
	if !wxcrypto.Equal(m.AppID, c.appID) {
		return nil, fmt.Errorf("%w: push for %q at the route of component %s (InfoType %s); ignored",
			ErrForeignComponent, m.AppID, c.appID, m.InfoType)
	}
	h := &c.cfg.hooks
	switch m.InfoType {
	case message.InfoTypeComponentVerifyTicket:
		if err := c.StoreTicket(ctx, m.ComponentVerifyTicket, time.Unix(m.CreateTime, 0)); err != nil {
			return nil, err
		}
		if h.OnTicket != nil {
			return nil, h.OnTicket(ctx, m)
		}
	case message.InfoTypeAuthorized, message.InfoTypeUpdateAuthorized:
		if m.AuthorizerAppID == "" || m.AuthorizationCode == "" {
			return nil, fmt.Errorf("openplatform: %s event without AuthorizerAppid or AuthorizationCode", m.InfoType)
		}
		a, err := c.QueryAuth(ctx, m.AuthorizationCode)
		if err != nil {
			return nil, fmt.Errorf("openplatform: %s event of %s: %w", m.InfoType, m.AuthorizerAppID, err)
		}
		if a.AuthorizerAppID != m.AuthorizerAppID {
			c.cfg.logger.WarnContext(ctx, "openplatform: authorization code of another account than the event's",
				slog.String("event_authorizer_appid", m.AuthorizerAppID), slog.String("authorizer_appid", a.AuthorizerAppID))
		}
		hook := h.OnAuthorized
		if m.InfoType == message.InfoTypeUpdateAuthorized {
			hook = h.OnUpdateAuthorized
		}
		if hook != nil {
			return nil, hook(ctx, &Event{InfoType: m.InfoType, AuthorizerAppID: a.AuthorizerAppID, Authorization: a, Message: m})
		}
	case message.InfoTypeUnauthorized:
		if m.AuthorizerAppID == "" {
			return nil, errors.New("openplatform: unauthorized event without AuthorizerAppid")
		}
		if err := c.markUnauthorized(ctx, m.AuthorizerAppID); err != nil {
			return nil, err
		}
		if h.OnUnauthorized != nil {
			return nil, h.OnUnauthorized(ctx, &Event{InfoType: m.InfoType, AuthorizerAppID: m.AuthorizerAppID, Message: m})
		}
	default:
		if h.OnOther != nil {
			return nil, h.OnOther(ctx, m)
		}
	}
	return nil, nil
}
