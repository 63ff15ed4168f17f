package postgres

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
)

// Tuning of the statement groups (group).
const (
	// groupMax is the most calls one grouped statement serves.
	groupMax = 256
	// groupTimeout bounds a statement run for a group of callers, whose
	// contexts bound only their own waits.
	groupTimeout = 5 * time.Second
)

// errClosed is returned by the methods of a closed DB that run grouped
// statements.
var errClosed = errors.New("postgres: DB closed")

// A groupCall is one caller's request to a group and, once done is
// closed, its result.
type groupCall[Req, Res any] struct {
	ctx  context.Context
	req  Req
	res  Res
	err  error
	done chan struct{}
}

// A group runs the calls of concurrent callers together, so that a round
// trip to the server, with its system calls, is shared by many of them.
// A call made while no statement of the group runs is run by its caller,
// after one yield of the processor (runtime.Gosched) that lets the pushes
// arrived with it queue their calls, which then share its statement; alone,
// it runs under its caller's context. Calls made while a statement runs are
// queued; when it ends, a goroutine runs the queue (up to groupMax calls a
// statement) until it is empty, and wakes their callers.
type group[Req, Res any] struct {
	// run sets res or err on each call; the calls' keys are distinct.
	run func(ctx context.Context, calls []*groupCall[Req, Res])
	// key names the row a request touches: calls on one key are never run
	// in one statement (a row may change once per statement), but one
	// after the other, in arrival order.
	key func(Req) string

	mu     sync.Mutex
	busy   bool // a statement runs, or the queue is being run
	closed bool
	queue  []*groupCall[Req, Res]
}

func newGroup[Req, Res any](key func(Req) string, run func(context.Context, []*groupCall[Req, Res])) *group[Req, Res] {
	return &group[Req, Res]{run: run, key: key}
}

// do runs req and returns its result, or errClosed. A caller whose call
// waits in the queue, or runs in another caller's statement, returns ctx's
// error when ctx ends (the statement may still run); one that leads a
// statement shared with others waits for it (at most groupTimeout).
func (g *group[Req, Res]) do(ctx context.Context, req Req) (Res, error) {
	var zero Res
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return zero, errClosed
	}
	if !g.busy {
		// Nothing runs: lead. Let the goroutines that are ready to run
		// first (pushes that arrived together) queue their calls, and run
		// them with this one.
		g.busy = true
		g.mu.Unlock()
		runtime.Gosched()
		c := &groupCall[Req, Res]{ctx: ctx, req: req}
		g.mu.Lock()
		calls := g.take([]*groupCall[Req, Res]{c})
		g.mu.Unlock()
		if len(calls) == 1 {
			g.run(ctx, calls)
		} else {
			g.runGroup(calls)
		}
		g.mu.Lock()
		if len(g.queue) > 0 {
			go g.runQueue()
		} else {
			g.busy = false
		}
		g.mu.Unlock()
		return c.res, c.err
	}
	c := &groupCall[Req, Res]{ctx: ctx, req: req, done: make(chan struct{})}
	g.queue = append(g.queue, c)
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.res, c.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// runQueue runs the queued calls, a statement per group of distinct
// keys, until the queue is empty.
func (g *group[Req, Res]) runQueue() {
	var calls []*groupCall[Req, Res]
	for {
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.busy = false
			g.mu.Unlock()
			return
		}
		calls = g.take(calls[:0])
		g.mu.Unlock()
		g.runGroup(calls)
	}
}

// take moves from the queue to calls the first call of each key not in
// calls yet, in order, up to groupMax calls; it leaves the rest queued,
// and drops the calls whose callers have returned. g.mu is held.
func (g *group[Req, Res]) take(calls []*groupCall[Req, Res]) []*groupCall[Req, Res] {
	seen := make(map[string]struct{}, len(calls)+len(g.queue))
	for _, c := range calls {
		seen[g.key(c.req)] = struct{}{}
	}
	rest := g.queue[:0]
	for _, c := range g.queue {
		if _, dup := seen[g.key(c.req)]; dup || len(calls) == groupMax {
			rest = append(rest, c)
			continue
		}
		if c.ctx.Err() != nil {
			close(c.done)
			continue
		}
		seen[g.key(c.req)] = struct{}{}
		calls = append(calls, c)
	}
	clear(g.queue[len(rest):])
	g.queue = rest
	return calls
}

// runGroup runs calls in one statement, under a context of its own, and
// wakes their callers (those that wait on done: all but a leader's).
func (g *group[Req, Res]) runGroup(calls []*groupCall[Req, Res]) {
	if len(calls) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	g.run(ctx, calls)
	cancel()
	for _, c := range calls {
		if c.done != nil {
			close(c.done)
		}
	}
}

// close makes later calls return errClosed. Calls queued already are
// still run (and fail once the pool is closed).
func (g *group[Req, Res]) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}
