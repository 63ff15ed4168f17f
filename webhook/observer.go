package webhook

import (
	"context"
	"net/http"
	"time"
)

// Outcome is how the Server answered one POST (one push delivery), as told
// to an Observer. Its String form is the value used as a metric label.
type Outcome uint8

const (
	// OutcomeReplied: the push was processed and answered normally with
	// the Handler's passive reply or "success" (a Handler error or panic is
	// answered "success" and counts here too).
	OutcomeReplied Outcome = iota + 1
	// OutcomeDuplicate: a repeated delivery (WeChat's retry) answered with
	// the first delivery's reply from the DedupStore or the OnceRecorder,
	// or answered "success" because the first delivery was still in flight
	// at the deadline. The Handler did not run for it.
	OutcomeDuplicate
	// OutcomeRejected: the push was refused with a 4xx status (signature,
	// timestamp, parameters, body, XML, ciphertext, AppID, size); the
	// Handler did not run.
	OutcomeRejected
	// OutcomeError: the Server answered 500 (a DedupStore failure on Claim
	// or a Recorder failure), so that WeChat retries. (A Server whose Init
	// fails answers 500 without observing.)
	OutcomeError
	// OutcomeLate: the Handler missed the deadline; the Server answered
	// "success" and the Handler's eventual reply goes to LateReply.
	OutcomeLate
)

// String returns "replied", "duplicate", "rejected", "error" or "late".
func (o Outcome) String() string {
	switch o {
	case OutcomeReplied:
		return "replied"
	case OutcomeDuplicate:
		return "duplicate"
	case OutcomeRejected:
		return "rejected"
	case OutcomeError:
		return "error"
	case OutcomeLate:
		return "late"
	}
	return "invalid"
}

// Outcomes lists every Outcome, in declaration order (to pre-create one
// metric series per outcome).
var Outcomes = [...]Outcome{OutcomeReplied, OutcomeDuplicate, OutcomeRejected, OutcomeError, OutcomeLate}

// An Observer is told about every POST a Server answers, once, after the
// answer is written: its Outcome and how long the Server took, from the
// start of ServeHTTP to the end of the write (a Handler that missed the
// deadline is not waited for). GET handshakes and other methods are not
// observed.
//
// ObservePush runs on the request's goroutine, on the hot path: it must be
// safe for concurrent use, return promptly and not block (increment
// counters, observe a histogram). ctx is the request's context (it may be
// done already); it carries request-scoped values such as a request id.
type Observer interface {
	ObservePush(ctx context.Context, o Outcome, d time.Duration)
}

// ObserverFunc adapts an ordinary function to an Observer.
type ObserverFunc func(ctx context.Context, o Outcome, d time.Duration)

// ObservePush calls f(ctx, o, d).
func (f ObserverFunc) ObservePush(ctx context.Context, o Outcome, d time.Duration) { f(ctx, o, d) }

// servePost answers a POST and, when the Server has an Observer, reports
// the outcome and duration to it. Without an Observer it costs nothing
// more than servePush: the clock is not read.
func (s *Server) servePost(w http.ResponseWriter, r *http.Request) {
	if s.Observer == nil {
		s.servePush(w, r)
		return
	}
	start := time.Now()
	o := s.servePush(w, r)
	s.Observer.ObservePush(r.Context(), o, time.Since(start))
}
