package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/webhook"
)

// LateHandlerTimeout bounds a reply handler of an app with a secret. Such a
// handler is not cancelled at the webhook deadline (webhook.timeout): the
// user gets "success" at the deadline and the handler goes on, up to this
// long, and its reply is then delivered through the customer-service API
// (see wireLateReply). A forward target is also bounded by the gateway's
// HTTP client timeout (10 s).
const LateHandlerTimeout = 30 * time.Second

// ErrLateReplyUnsupported is returned (wrapped) for a late reply whose type
// the customer-service API cannot carry here (voice, video, music,
// transfer_customer_service); it is logged and dropped.
var ErrLateReplyUnsupported = errors.New("gateway: late reply type not supported by the customer-service fallback")

// wireLateReply sets up the async fallback of the webhook of app a: when the
// app has a secret, its Handler keeps running past the deadline (see
// LateHandlerTimeout) and srv.LateReply sends the late reply through the
// customer-service API with the app's mp.Client (text → SendText, image →
// SendImage, news → SendNews with the first article). Failures, such as
// 45015 when the user has not interacted within 48 hours, are logged by the
// webhook server with the errcode; no token or secret is in them. Without a
// secret nothing changes: a late reply is logged and dropped. Call it
// before srv.Init.
func (g *Gateway) wireLateReply(a *AppConfig, srv *webhook.Server) {
	if a.Secret == "" {
		return
	}
	appID := a.AppID
	logger := g.logger.With(slog.String("appid", appID))
	srv.Handler = detachDeadline(srv.Handler, LateHandlerTimeout)
	srv.LateReply = func(ctx context.Context, m *message.Message, r message.Reply) error {
		if g.web == nil {
			return errors.New("gateway: late reply: gateway not fully built")
		}
		c, err := g.web.mpClient(appID)
		if err != nil {
			return fmt.Errorf("gateway: late reply: %w", err)
		}
		return deliverLateReply(ctx, c.CustomerService(), logger, m, r)
	}
}

// detachDeadline runs h under a context that keeps the values of the
// request's context but not its deadline or cancellation, bounded by d
// instead, so that a handler that misses the webhook deadline can still
// produce its reply for LateReply.
func detachDeadline(h webhook.Handler, d time.Duration) webhook.Handler {
	if h == nil {
		h = webhook.NotFound
	}
	return detached{h: h, d: d}
}

// detached is the Handler detachDeadline returns; it answers at once when h
// does (webhook.ImmediateHandler), with no context to detach.
type detached struct {
	h webhook.Handler
	d time.Duration
}

// ServeMessage implements webhook.Handler.
func (x detached) ServeMessage(ctx context.Context, m *message.Message) (message.Reply, error) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), x.d)
	defer cancel()
	return x.h.ServeMessage(dctx, m)
}

// ServeImmediate implements webhook.ImmediateHandler.
func (x detached) ServeImmediate(m *message.Message) (message.Reply, bool, error) {
	if ih, ok := x.h.(webhook.ImmediateHandler); ok {
		return ih.ServeImmediate(m)
	}
	return nil, false, nil
}

// deliverLateReply sends r to the sender of m through cs.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func deliverLateReply(ctx context.Context, cs *mp.CustomerServiceService, logger *slog.Logger, m *message.Message, r message.Reply) error {
	to := m.FromUserName
	var err error
	switch r := r.(type) {
	case *message.Text:
		err = cs.SendText(ctx, to, r.Content)
	case *message.Image:
		err = cs.SendImage(ctx, to, r.MediaID)
	case *message.News:
		if len(r.Articles) == 0 {
			return fmt.Errorf("gateway: late reply: news without articles")
		}
		if len(r.Articles) > 1 {
			logger.LogAttrs(ctx, slog.LevelWarn, "gateway: late news reply has several articles; the customer-service API sends the first only",
				slog.Int("articles", len(r.Articles)))
		}
		a := r.Articles[0]
		err = cs.SendNews(ctx, to, mp.CustomArticle{Title: a.Title, Description: a.Description, URL: a.URL, PicURL: a.PicURL})
	default:
		return fmt.Errorf("%w: %s", ErrLateReplyUnsupported, r.ReplyType())
	}
	if err != nil {
		if errors.Is(err, wxkit.ErrResponseOutOfTime) {
			return fmt.Errorf("gateway: late reply to %s: the user has not interacted within 48 hours: %w", to, err)
		}
		return fmt.Errorf("gateway: late reply to %s: %w", to, err)
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "gateway: late reply delivered through the customer-service API",
		slog.String("openid", to), slog.String("reply_type", string(r.ReplyType())))
	return nil
}
