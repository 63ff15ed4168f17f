package webhook

import (
	"context"
	"sync"
	"time"

	"github.com/wxkit/wxkit/message"
)

// ImmediateHandler is an optional interface of a Handler that can answer
// some messages at once, without I/O and without waiting (a fixed text, an
// echo). The Server calls ServeImmediate on the request goroutine first: if
// it returns ok, r and err are the Handler's answer, handled as those of
// ServeMessage (nil r for "success"; an error is logged and answered
// "success"), and ServeMessage is not called, so no goroutine and no
// deadline timer are set up for the message; otherwise the Server calls
// ServeMessage under the deadline as usual. ServeImmediate runs outside the
// deadline guard: it must return promptly, and must not retain m. A panic in
// it is handled like one in ServeMessage.
//
// Mux implements it by asking the Handler it routes m to; NotFound answers
// every message at once.
type ImmediateHandler interface {
	Handler
	ServeImmediate(m *message.Message) (r message.Reply, ok bool, err error)
}

// reqCtx is the context of one push: the request's context with the
// Server's deadline. Unlike context.WithTimeout it arms no timer and does
// not register with the request's context until Done is called, so a
// message that needs neither (its Handler answered at once, its dedup store
// did not wait) pays for neither. Err and Done honour the deadline and the
// request's cancellation as context.WithTimeout does; context.Cause reports
// the request's cause, not DeadlineExceeded. It is used only with an
// ImmediateHandler, and seen only by the DedupStore: a Handler run on a
// goroutine gets a context.WithDeadline of the request's context instead.
type reqCtx struct {
	parent   context.Context // the request's context
	deadline time.Time

	mu         sync.Mutex
	done       chan struct{} // made by Done
	err        error
	timer      *time.Timer
	stopParent func() bool
}

var _ context.Context = (*reqCtx)(nil)

func newReqCtx(parent context.Context, deadline time.Time) *reqCtx {
	return &reqCtx{parent: parent, deadline: deadline}
}

// Deadline implements context.Context.
func (c *reqCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Value implements context.Context.
func (c *reqCtx) Value(key any) any { return c.parent.Value(key) }

// Err implements context.Context.
func (c *reqCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		if err := c.parent.Err(); err != nil {
			c.endLocked(err)
		} else if !time.Now().Before(c.deadline) {
			c.endLocked(context.DeadlineExceeded)
		}
	}
	return c.err
}

// Done implements context.Context. The first call arms the deadline timer
// and the watch on the request's context.
func (c *reqCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	switch {
	case c.err != nil:
		close(c.done)
	case c.parent.Err() != nil:
		c.endLocked(c.parent.Err())
	default:
		d := time.Until(c.deadline)
		if d <= 0 {
			c.endLocked(context.DeadlineExceeded)
			break
		}
		c.timer = time.AfterFunc(d, func() { c.end(context.DeadlineExceeded) })
		c.stopParent = context.AfterFunc(c.parent, func() { c.end(c.parent.Err()) })
	}
	return c.done
}

// end cancels c with err unless it has ended already.
func (c *reqCtx) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.endLocked(err)
	}
}

func (c *reqCtx) endLocked(err error) {
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.stopParent != nil {
		c.stopParent()
	}
}

// String names the context as context.WithTimeout's does, roughly.
func (c *reqCtx) String() string { return "webhook.reqCtx" }
