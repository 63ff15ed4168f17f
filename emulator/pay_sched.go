package emulator

import (
	"context"
	"sort"
	"sync"
	"time"
)

// payScheduler runs timed events on the emulator clock: the merchant
// platform's (notify retries, refunds that complete), and, in an instance
// of its own, the Open Platform's component_verify_ticket pushes. An event runs, in its own
// goroutine, once the emulator's time reaches its due time: when
// Emulator.Advance moves the clock past it, or, with a clock that moves by
// itself (the wall clock), when a timer armed for it fires. A clock that
// never moves by itself (FixedClock) only fires events through Advance.
//
// A clock moved by other means than Advance (a ClockFunc the test moves)
// is noticed on the next Advance: Advance(0) fires what became due.
//
// Every running event, and every notify copy being delivered, is counted
// in flight, so that Emulator.WaitNotifies can wait for the platform to be
// quiet. An event that schedules a follow-up which is already due starts it
// before it ends, so a jump of the clock plays overdue events out in order.
type payScheduler struct {
	p *payState

	mu     sync.Mutex
	events []payEvent
	timer  *time.Timer
	busy   int           // events and deliveries in flight
	idle   chan struct{} // closed when busy drops to zero; nil when idle
	closed bool          // stop was called: no more events or timers
}

// payEvent is a function to run at due (emulator time); it is passed due.
type payEvent struct {
	due time.Time
	fn  func(due time.Time)
}

// at schedules fn at due and runs whatever is due now.
func (s *payScheduler) at(due time.Time, fn func(time.Time)) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.events = append(s.events, payEvent{due: due, fn: fn})
	s.mu.Unlock()
	s.fire()
}

// stop drops the pending events and the timer; later events are ignored.
// Work already running finishes.
func (s *payScheduler) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.events = nil
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// fire starts every event that is due at the emulator's current time, in
// due order, then re-arms the timer for the next one.
func (s *payScheduler) fire() {
	now := s.p.e.Now()
	s.mu.Lock()
	var due []payEvent
	keep := s.events[:0]
	for _, ev := range s.events {
		if ev.due.After(now) {
			keep = append(keep, ev)
		} else {
			due = append(due, ev)
		}
	}
	clear(s.events[len(keep):])
	s.events = keep
	sort.SliceStable(due, func(i, j int) bool { return due[i].due.Before(due[j].due) })
	for range due {
		s.beginLocked()
	}
	s.mu.Unlock()
	for _, ev := range due {
		go func() {
			defer s.end()
			ev.fn(ev.due)
		}()
	}
	s.arm()
}

// arm sets the timer for the earliest pending event, for clocks that move
// by themselves.
func (s *payScheduler) arm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if len(s.events) == 0 || s.closed {
		return
	}
	next := s.events[0].due
	for _, ev := range s.events[1:] {
		if ev.due.Before(next) {
			next = ev.due
		}
	}
	// Waits are capped, so that a timer armed under a clock that turns out
	// not to move by itself (FixedClock) does not linger for hours.
	wait := min(max(next.Sub(s.p.e.Now()), 0), time.Minute)
	raw := s.p.e.clock.Now()
	s.timer = time.AfterFunc(wait, func() {
		if wait > 0 && !s.p.e.clock.Now().After(raw) {
			return // a clock that does not move by itself: Advance fires events
		}
		s.fire()
	})
}

// begin counts one unit of work in flight.
func (s *payScheduler) begin() {
	s.mu.Lock()
	s.beginLocked()
	s.mu.Unlock()
}

func (s *payScheduler) beginLocked() {
	if s.busy == 0 {
		s.idle = make(chan struct{})
	}
	s.busy++
}

// end ends one unit of work.
func (s *payScheduler) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy--
	if s.busy == 0 {
		close(s.idle)
		s.idle = nil
	}
}

// wait blocks until nothing is in flight, or ctx is done.
func (s *payScheduler) wait(ctx context.Context) error {
	s.mu.Lock()
	ch := s.idle
	s.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pending returns the due times of the events not yet run, earliest first.
func (s *payScheduler) pending() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]time.Time, 0, len(s.events))
	for _, ev := range s.events {
		out = append(out, ev.due)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// WaitNotifies blocks until the merchant platform is quiet: no pay or
// refund notify being delivered and no due event running (retries due after
// an Advance included). Retries that are not due yet do not count. It
// returns ctx's error if ctx ends first. Tests call it after PayOrder,
// Advance or a refund to see the deliveries' outcome.
func (e *Emulator) WaitNotifies(ctx context.Context) error { return e.pay.sched.wait(ctx) }
