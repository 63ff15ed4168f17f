package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/webhook"
)

// warmLimit bounds the messages reloaded per app at start.
const warmLimit = 100_000

// warmDedup reloads, at start, the messages each app answered within the
// dedup TTL from the message log into the app's in-process dedup memory,
// so that a WeChat retry of a message answered before a restart gets the
// same reply instead of running the handler again. It is what lets
// SQLite's dedup store skip writing keys while alone on its file
// (StoreOptions.DedupBackedByLog). Failures are logged: the gateway starts
// anyway.
func (g *Gateway) warmDedup(ctx context.Context) {
	if g.cfg.Webhook.MessageLog == LogOff {
		return
	}
	for appID, srv := range g.webhooks {
		var local *webhook.MemoryDedup
		switch d := srv.Dedup.(type) {
		case *tieredDedup:
			local = d.local
		case *webhook.MemoryDedup:
			local = d
		default:
			continue
		}
		ttl := max(webhook.DefaultDedupTTL, time.Duration(*g.cfg.Webhook.TimestampWindow))
		now := g.now()
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		msgs, err := g.stores.Messages.Messages(qctx, store.MessageQuery{AppID: appID, Since: now.Add(-ttl), Limit: warmLimit})
		cancel()
		if err != nil {
			g.logger.Warn("dedup: reloading recent messages from the log failed; retries of messages answered before the start may run again",
				slog.String("appid", appID), slog.String("error", err.Error()))
			continue
		}
		// Oldest first, so that the memory's age order matches.
		for i := len(msgs) - 1; i >= 0; i-- {
			m := msgs[i]
			if left := m.ReceivedAt.Add(ttl).Sub(now); left > 0 {
				local.Complete(ctx, m.DedupKey, m.Reply, left)
			}
		}
		if len(msgs) > 0 {
			g.logger.Info("dedup: reloaded recent messages from the log", slog.String("appid", appID), slog.Int("messages", len(msgs)))
		}
	}
}
