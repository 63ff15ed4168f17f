package openplatform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/webhook"
)

// MessageServer returns the receiver of the messages and events that users
// send to the authorizer authorizerAppID (the component's 消息与事件接收 URL,
// one route per authorizer, e.g. /component/{component_appid}/wx/{appid}
// for the URL configured as .../wx/$APPID$). It is a webhook.Server with
// the component's message token and EncodingAESKey in safe mode: the
// platform encrypts every authorizer's messages with the component's key,
// and the AppID at the end of the ciphertext is the component's AppID, not
// the authorizer's, so that is what the Server checks.
//
// The authorizer is told apart by ToUserName, its original id (gh_…, the
// user_name of AuthorizerInfo): when the stored authorizer's original id is
// known and the message's ToUserName differs, h does not run and the push
// is answered "success" (ErrForeignAuthorizer, logged): the message belongs
// to another account's route. Messages for an authorizer whose original id
// is not known yet (not stored, or stored without it) reach h, as WeChat's
// release check (全网发布) requires for its test accounts. h finds the
// authorizer's AppID with AuthorizerAppID(ctx).
//
// Configure the returned Server further (Dedup, Recorder, LateReply,
// Observer, Logger) before serving; do not change its AppID, Token,
// EncodingAESKey, Mode or Handler. Each call returns a new Server.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/Before_Develop/Message_encryption_and_decryption.html
func (c *Component) MessageServer(authorizerAppID string, h webhook.Handler) (*webhook.Server, error) {
	if authorizerAppID == "" {
		return nil, errors.New("openplatform: MessageServer: empty authorizer appid")
	}
	if h == nil {
		h = webhook.NotFound
	}
	return &webhook.Server{
		AppID:          c.appID,
		Token:          c.token,
		EncodingAESKey: c.aesKey,
		Mode:           webhook.ModeSafe,
		Handler:        c.AuthorizerHandler(authorizerAppID, h),
		Logger:         c.cfg.logger,
		Now:            c.cfg.now,
	}, nil
}

// AuthorizerHandler is the Handler of MessageServer: it checks that m was
// sent to the authorizer authorizerAppID (see MessageServer) and calls h
// with the authorizer's AppID in ctx. Use it to serve authorizers' messages
// with a webhook.Server configured otherwise.
func (c *Component) AuthorizerHandler(authorizerAppID string, h webhook.Handler) webhook.Handler {
	return webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
		if want := c.userName(ctx, authorizerAppID); want != "" && m.ToUserName != want {
			return nil, fmt.Errorf("%w: ToUserName %q at the route of %s (%s) of component %s; ignored",
				ErrForeignAuthorizer, m.ToUserName, authorizerAppID, want, c.appID)
		}
		return h.ServeMessage(context.WithValue(ctx, authorizerKey{}, authorizerAppID), m)
	})
}

// userName returns the original id of the authorizer, "" when it is not
// known. Known ids are kept in memory: an account's original id never
// changes.
func (c *Component) userName(ctx context.Context, appID string) string {
	if v, ok := c.userNames.Load(appID); ok {
		return v.(string)
	}
	a, err := c.cfg.authorizers.Authorizer(ctx, c.appID, appID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ""
	case err != nil:
		// Fail open: the push is authentic (the component's key), only
		// its route is unchecked.
		c.cfg.logger.WarnContext(ctx, "openplatform: reading the authorizer failed; its message is not checked against its route",
			slog.String("authorizer_appid", appID), slog.Any("err", err))
		return ""
	}
	if a.UserName != "" {
		c.userNames.Store(appID, a.UserName)
	}
	return a.UserName
}

type authorizerKey struct{}

// AuthorizerAppID returns the AppID of the authorizer whose message a
// MessageServer (or AuthorizerHandler) handler is serving, "" outside one.
func AuthorizerAppID(ctx context.Context) string {
	s, _ := ctx.Value(authorizerKey{}).(string)
	return s
}
