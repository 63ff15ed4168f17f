package gateway

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/webhook"
)

// Values of WebhookConfig.MessageLog.
const (
	// LogDurable writes each accepted push to the message log before its
	// reply is written (group commit: the pushes that arrive together share
	// one transaction). While the store is unreachable, pushes are still
	// answered and their rows wait in the queue, as in LogAsync.
	LogDurable = "durable"
	// LogAsync answers first and writes the rows behind, in batches, off
	// the request path; the queue is flushed on shutdown. A kill -9 loses
	// the rows still queued: at most the last flush interval's worth.
	LogAsync = "async"
	// LogOff keeps no message log. Dedup does not depend on the log.
	LogOff = "off"
)

// Tuning of the message-log writer.
const (
	// DefaultLogQueue is how many rows may wait to be written (about 1.5
	// KB each: 24 MB when full, at a store outage); beyond it rows are
	// dropped, counted and logged.
	DefaultLogQueue = 16384
	// logMaxBatch is the most rows one transaction holds.
	logMaxBatch = 512
	// asyncFlushInterval is how long the async writer waits for a batch to
	// fill before writing what it has: the most a kill -9 loses.
	asyncFlushInterval = 50 * time.Millisecond
	// durableWait bounds how long a durable push waits for its row's
	// commit; after it (a slow or unreachable store) the row stays queued
	// and the push is answered.
	durableWait = 2 * time.Second
	// durableLinger is how long the durable writer waits for more rows
	// before it commits what it has: pushes that arrive within it share a
	// transaction, whose cost (the write-ahead log's page writes) is mostly
	// per commit, not per row.
	durableLinger = time.Millisecond
	// logAttemptTimeout bounds one write of a batch.
	logAttemptTimeout = 5 * time.Second
	// logRetryMax is the longest pause between two attempts at a failing
	// store.
	logRetryMax = 5 * time.Second
)

// errLogQueued reports to a durable waiter that its row could not be
// written yet and stays queued.
var errLogQueued = errors.New("gateway: message log: store unavailable, row queued")

// messageLog writes accepted pushes to a store.MessageLog, in durable or
// async mode (LogDurable, LogAsync), through one writer goroutine that
// batches rows, retries a failing store with backoff while rows wait in a
// bounded queue, and flushes the queue on Close.
type messageLog struct {
	store  store.MessageLog
	mode   string
	logger *slog.Logger
	now    func() time.Time
	hooks  logHooks

	queue   chan *logEntry
	closing chan struct{}
	done    chan struct{}

	degraded atomic.Bool // the last write failed: durable pushes do not wait
	dropped  atomic.Int64
	written  atomic.Int64
	batches  atomic.Int64 // committed transactions
	lastWarn atomic.Int64 // Unix ns of the last overflow log line

	entries   sync.Pool // *logEntry with a done channel, for durable waits
	closeOnce sync.Once
}

// logHooks let the gateway count what the writer does (metrics.go).
type logHooks struct {
	storeError func(op string) // a write failed
	dropped    func(n int)     // rows dropped (queue full, or unwritten at Close)
}

// logEntry is one row; done is set for durable writes.
type logEntry struct {
	row  *store.LoggedMessage
	done chan error
}

// newMessageLog starts the writer of mode (LogDurable or LogAsync) over s
// with a queue of queueLen rows (DefaultLogQueue when 0).
func newMessageLog(s store.MessageLog, mode string, queueLen int, logger *slog.Logger, now func() time.Time, hooks logHooks) *messageLog {
	if queueLen <= 0 {
		queueLen = DefaultLogQueue
	}
	l := &messageLog{
		store: s, mode: mode, logger: logger, now: now, hooks: hooks,
		queue:   make(chan *logEntry, queueLen),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	l.entries.New = func() any { return &logEntry{done: make(chan error, 1)} }
	go l.writer()
	return l
}

// recorder returns the webhook.Recorder of appID.
func (l *messageLog) recorder(appID string) webhook.Recorder {
	return webhook.RecorderFunc(func(ctx context.Context, m *message.Message, reply []byte) error {
		return l.record(ctx, appID, m, reply)
	})
}

// record queues the row of m; in durable mode it waits for its commit
// (bounded by durableWait). It returns nil unless the log is closed: a
// store failure never fails the push (the row stays queued), and a full
// queue drops the row (counted and logged).
func (l *messageLog) record(ctx context.Context, appID string, m *message.Message, reply []byte) error {
	row := &store.LoggedMessage{
		AppID: appID, DedupKey: m.DedupKey(), FromUser: m.FromUserName, ToUser: m.ToUserName,
		MsgType: string(m.MsgType), Event: string(m.Event), MsgID: m.MsgID, CreateTime: m.CreateTime,
		ReceivedAt: l.now(),
		// The webhook server reuses its buffers after the reply: copy.
		Request: slices.Clone(m.Raw), Reply: slices.Clone(reply),
	}
	wait := l.mode == LogDurable && !l.degraded.Load()
	var e *logEntry
	if wait {
		e = l.entries.Get().(*logEntry)
	} else {
		e = &logEntry{}
	}
	e.row = row
	select {
	case <-l.closing:
		return errors.New("gateway: message log closed")
	default:
	}
	select {
	case l.queue <- e:
	default:
		l.drop(1, "queue full")
		return nil
	}
	if !wait {
		return nil
	}
	t := time.NewTimer(durableWait)
	defer t.Stop()
	select {
	case <-e.done:
		// Only a waited-for entry goes back to the pool: the writer has
		// sent on done and will not touch it again.
		e.row = nil
		l.entries.Put(e)
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}

// drop counts n dropped rows and logs at most once a second.
func (l *messageLog) drop(n int, why string) {
	total := l.dropped.Add(int64(n))
	if l.hooks.dropped != nil {
		l.hooks.dropped(n)
	}
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if now-last >= int64(time.Second) && l.lastWarn.CompareAndSwap(last, now) {
		l.logger.LogAttrs(context.Background(), slog.LevelError, "message log: rows dropped",
			slog.String("reason", why), slog.Int64("dropped_total", total), slog.Int("queue_capacity", cap(l.queue)))
	}
}

// writer batches queued rows and writes them until Close.
func (l *messageLog) writer() {
	defer close(l.done)
	batch := make([]*logEntry, 0, logMaxBatch)
	for {
		batch = batch[:0]
		select {
		case e := <-l.queue:
			batch = append(batch, e)
		case <-l.closing:
			l.flushAll()
			return
		}
		batch = l.fill(batch)
		l.write(batch)
	}
}

// fill adds the rows queued now to batch; in async mode it waits up to
// asyncFlushInterval for the batch to fill, so that rows are written in
// few, large transactions.
func (l *messageLog) fill(batch []*logEntry) []*logEntry {
	batch = l.drain(batch)
	if len(batch) >= logMaxBatch {
		return batch
	}
	wait := asyncFlushInterval
	if l.mode != LogAsync {
		wait = durableLinger
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for len(batch) < logMaxBatch {
		select {
		case e := <-l.queue:
			batch = append(batch, e)
		case <-t.C:
			return batch
		case <-l.closing:
			return l.drain(batch)
		}
	}
	return batch
}

// drain adds the rows queued now to batch, up to logMaxBatch, without
// waiting.
func (l *messageLog) drain(batch []*logEntry) []*logEntry {
	for len(batch) < logMaxBatch {
		select {
		case e := <-l.queue:
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

// write writes batch, retrying with backoff while the store fails; durable
// waiters are released after the first attempt either way. It gives up
// only when the log is closing and the close deadline has passed (flushAll
// then counts the loss).
func (l *messageLog) write(batch []*logEntry) bool {
	rows := make([]*store.LoggedMessage, len(batch))
	for i, e := range batch {
		rows[i] = e.row
	}
	pause := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), logAttemptTimeout)
		err := l.store.AppendMessages(ctx, rows)
		cancel()
		if err == nil {
			if l.degraded.Swap(false) {
				l.logger.Info("message log: store reachable again; queued rows written", slog.Int("rows", len(rows)))
			}
			l.written.Add(int64(len(rows)))
			l.batches.Add(1)
			if attempt == 0 {
				l.release(batch, nil)
			}
			return true
		}
		if l.hooks.storeError != nil {
			l.hooks.storeError("append_messages")
		}
		if attempt == 0 {
			if !l.degraded.Swap(true) {
				l.logger.LogAttrs(context.Background(), slog.LevelError, "message log: write failed; rows wait in the queue and pushes are still answered",
					slog.Int("rows", len(rows)), slog.String("error", err.Error()))
			}
			l.release(batch, errLogQueued)
		}
		select {
		case <-l.closing:
			if attempt >= 2 {
				l.drop(len(rows), "store unavailable at shutdown")
				return false
			}
			pause = min(pause, 200*time.Millisecond)
		default:
		}
		t := time.NewTimer(pause)
		<-t.C
		pause = min(2*pause, logRetryMax)
	}
}

// release tells the durable waiters of batch the outcome of its first
// attempt.
func (l *messageLog) release(batch []*logEntry, err error) {
	for _, e := range batch {
		if e.done != nil {
			e.done <- err
		}
	}
}

// flushAll writes everything still queued (at Close). When the store
// stays down it counts the rows left unwritten as dropped.
func (l *messageLog) flushAll() {
	batch := make([]*logEntry, 0, logMaxBatch)
	for {
		batch = l.drain(batch[:0])
		if len(batch) == 0 {
			return
		}
		if !l.write(batch) {
			n := 0
			for more := l.drain(batch[:0]); len(more) > 0; more = l.drain(batch[:0]) {
				n += len(more)
			}
			if n > 0 {
				l.drop(n, "store unavailable at shutdown")
			}
			return
		}
	}
}

// Close stops accepting rows, writes the queue (retrying a failing store a
// few times) and stops the writer. It waits at most until ctx ends.
func (l *messageLog) Close(ctx context.Context) error {
	l.closeOnce.Do(func() { close(l.closing) })
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stats reports the rows written and dropped so far.
func (l *messageLog) stats() (written, dropped int64) { return l.written.Load(), l.dropped.Load() }

// batchCount reports the transactions committed so far (rows written /
// batches is the mean group-commit size).
func (l *messageLog) batchCount() int64 { return l.batches.Load() }
