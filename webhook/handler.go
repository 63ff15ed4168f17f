package webhook

import (
	"context"

	"github.com/wxkit/wxkit/message"
)

// A Handler responds to one inbound message or event. A nil Reply makes the
// Server answer "success" (no passive reply). An error is logged by the
// Server and also answered "success", so that WeChat does not retry.
//
// ServeMessage runs under a context whose deadline is the Server's Timeout;
// a Handler that returns after it has its reply handed to Server.LateReply.
// The Message must be treated as read-only.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
type Handler interface {
	ServeMessage(ctx context.Context, m *message.Message) (message.Reply, error)
}

// HandlerFunc adapts an ordinary function to a Handler.
type HandlerFunc func(ctx context.Context, m *message.Message) (message.Reply, error)

// ServeMessage calls f(ctx, m).
func (f HandlerFunc) ServeMessage(ctx context.Context, m *message.Message) (message.Reply, error) {
	return f(ctx, m)
}

// Middleware wraps a Handler, as func(http.Handler) http.Handler does.
type Middleware func(Handler) Handler

// Chain composes middlewares into one: Chain(a, b, c)(h) is a(b(c(h))), so
// the first middleware is the outermost and sees each message first.
func Chain(mws ...Middleware) Middleware {
	return func(h Handler) Handler {
		for i := len(mws) - 1; i >= 0; i-- {
			h = mws[i](h)
		}
		return h
	}
}

// NotFound is the Handler of last resort: it answers every message with a
// nil Reply, which the Server writes as "success". It is the default
// fallback of a Mux, and an ImmediateHandler.
var NotFound Handler = notFound{}

type notFound struct{}

func (notFound) ServeMessage(context.Context, *message.Message) (message.Reply, error) {
	return nil, nil
}

func (notFound) ServeImmediate(*message.Message) (message.Reply, bool, error) { return nil, true, nil }
