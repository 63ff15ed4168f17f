package redis

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// SetLogger routes go-redis's own log lines (reconnects, pool dial
// failures), which it otherwise prints as plain text on stderr, to l at
// level warn with the attribute component=redis. go-redis keeps one logger
// per process, so the last call wins. A nil l discards them.
func SetLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	goredis.SetLogger(slogPrintf{l: l.With(slog.String("component", "redis"))})
}

// slogPrintf adapts a *slog.Logger to go-redis's Printf logger.
type slogPrintf struct{ l *slog.Logger }

func (s slogPrintf) Printf(ctx context.Context, format string, v ...any) {
	if ctx == nil {
		ctx = context.Background()
	}
	s.l.Log(ctx, slog.LevelWarn, strings.TrimSpace(fmt.Sprintf(format, v...)))
}
