package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/wxkit/wxkit/message"
)

// Recover returns a Middleware that turns a panic in the wrapped Handler into
// a logged error (level error, with the panic value, message type and stack)
// and a nil Reply, so the Server answers "success" and the process lives on.
// A nil logger means slog.Default().
//
// The Server recovers from handler panics itself as a last line of defence;
// Recover is for placing that behaviour inside a middleware chain, e.g.
// before a Middleware that must still see the message.
func Recover(logger *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, m *message.Message) (r message.Reply, err error) {
			defer func() {
				if v := recover(); v != nil {
					l := logger
					if l == nil {
						l = slog.Default()
					}
					l.LogAttrs(ctx, slog.LevelError, "webhook: handler panicked",
						slog.String("panic", fmt.Sprint(v)),
						slog.String("msg_type", string(m.MsgType)),
						slog.String("event", string(m.Event)),
						slog.String("stack", string(debug.Stack())))
					r, err = nil, nil
				}
			}()
			return next.ServeMessage(ctx, m)
		})
	}
}
