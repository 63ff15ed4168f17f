package gateway

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/wxkit/wxkit/token"
)

// DefaultMessageLogRetention is the default of webhook.message_log_retention.
const DefaultMessageLogRetention = 30 * 24 * time.Hour

// Pruning of the message log.
const (
	// PruneLeaseKey is the lock (token.Store.Lock) that makes one instance
	// of a cluster prune at a time.
	PruneLeaseKey = "wxkit:leader:prune"
	// pruneEvery is how often an instance tries to prune.
	pruneEvery = 10 * time.Minute
	// pruneBatch is how many rows one statement deletes: small, so that no
	// statement holds the database for long.
	pruneBatch = 1000
	// prunePause separates two batches.
	prunePause = 50 * time.Millisecond
)

// pruner deletes logged messages older than the retention, in the
// background.
type pruner struct {
	g         *Gateway
	retention time.Duration
	stop      chan struct{}
	done      chan struct{}
}

// startPruner starts the pruning loop when the log is kept with a
// retention; stop it with stopPruner.
func (g *Gateway) startPruner() {
	r := time.Duration(*g.cfg.Webhook.MessageLogRetention)
	if r <= 0 || g.cfg.Webhook.MessageLog == LogOff {
		return
	}
	p := &pruner{g: g, retention: r, stop: make(chan struct{}), done: make(chan struct{})}
	g.prune = p
	go p.loop()
}

func (p *pruner) loop() {
	defer close(p.done)
	t := time.NewTimer(time.Minute) // not at the very start: let the instance warm up
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.once(context.Background())
		t.Reset(pruneEvery)
	}
}

// once runs one pruning pass under the cluster lease and returns the rows
// it deleted.
func (p *pruner) once(ctx context.Context) int64 {
	g := p.g
	unlock, err := g.stores.Tokens.Lock(ctx, PruneLeaseKey, pruneEvery)
	if errors.Is(err, token.ErrLocked) {
		return 0 // another instance is pruning
	}
	if err != nil {
		g.logger.Warn("message log: prune: taking the lease failed", slog.String("error", err.Error()))
		return 0
	}
	defer unlock(context.WithoutCancel(ctx))
	before := g.now().Add(-p.retention)
	var total int64
	for {
		bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		n, err := g.stores.Messages.PruneMessages(bctx, before, pruneBatch)
		cancel()
		total += n
		if err != nil {
			g.logger.Warn("message log: prune failed", slog.String("error", err.Error()), slog.Int64("deleted", total))
			return total
		}
		if n < pruneBatch {
			break
		}
		select {
		case <-p.stop:
			return total
		case <-time.After(prunePause):
		}
	}
	if total > 0 {
		g.logger.Info("message log: pruned", slog.Int64("rows", total), slog.Duration("retention", p.retention))
	}
	return total
}

// stopPruner ends the pruning loop (a batch in progress finishes).
func (g *Gateway) stopPruner() {
	if g.prune == nil {
		return
	}
	select {
	case <-g.prune.stop:
	default:
		close(g.prune.stop)
	}
	<-g.prune.done
}
