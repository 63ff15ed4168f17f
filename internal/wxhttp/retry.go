package wxhttp

import (
	"errors"
	"net/http"

	"github.com/wxkit/wxkit"
)

// A Checker turns the reply to one attempt into nil (success) or the call's
// error. r is the request as sent (credentials included: never put them in
// the error) and carries the call's context. It runs on the caller's
// goroutine.
type Checker func(r *http.Request, resp *Response) error

// Retry is what a failed attempt leads to.
type Retry int

// The decisions of a RetryPolicy.
const (
	// Stop returns the attempt's error.
	Stop Retry = iota
	// Backoff tries again after an exponential backoff with jitter, while
	// the attempts stay below Client.MaxAttempts and the delay within the
	// ctx's deadline.
	Backoff
	// Reauthorize revokes the attempt's credential (Grant.Revoke) and
	// tries again at once, once per call; without a Revoke it stops.
	Reauthorize
)

// A Failure is a failed attempt, as a RetryPolicy sees it.
type Failure struct {
	// Err is the attempt's error: the Checker's, or a transport or read
	// error when Response is nil.
	Err error
	// Response is the reply, nil when none was read.
	Response *Response
	// Idempotent reports whether the call was marked safe to repeat
	// (Idempotent or RetrySystemError, or Client.RetryUnsafe).
	Idempotent bool
}

// A RetryPolicy decides what a failed attempt leads to. It must not block.
type RetryPolicy func(f *Failure) Retry

// ErrcodePolicy is the policy of api.weixin.qq.com (see the package doc): a
// rejected token is reauthorized once; 45011 backs off for every call, -1
// only for idempotent calls; anything else, transport errors included,
// stops.
func ErrcodePolicy(f *Failure) Retry {
	switch {
	case f.Response == nil:
		return Stop
	case wxkit.IsTokenRejected(f.Err):
		return Reauthorize
	case errors.Is(f.Err, wxkit.ErrAPIMinuteQuota), f.Idempotent && errors.Is(f.Err, wxkit.ErrSystemBusy):
		return Backoff
	}
	return Stop
}
