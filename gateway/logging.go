package gateway

import (
	"io"
	"log/slog"
)

// NewLogger returns the slog.Logger that cfg selects (log.level,
// log.format), writing to w. Nothing the gateway logs carries a secret:
// AppSecrets, tokens, EncodingAESKeys and bearer secrets are never passed to
// the logger, and tokens redact themselves (token.Token.LogValue).
func NewLogger(cfg LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	switch cfg.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
