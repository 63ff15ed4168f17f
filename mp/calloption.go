package mp

import "github.com/wxkit/wxkit/internal/wxhttp"

// A CallOption adjusts one API call. The service methods that send, create,
// change or delete something take CallOptions as trailing arguments, and so
// does Client.Do; an option that does not concern a call is ignored by it.
//
//	err := c.CustomerService().SendText(ctx, openID, "hi", mp.RetryUnsafe())
//	err = c.Menu().Create(ctx, menu, mp.UseMenuLimits(limits))
type CallOption func(*callConfig)

// callConfig is what the CallOptions of one call set.
type callConfig struct {
	retrySystemError bool
	menu             *menuLimitsValue // nil: the client's
}

// RetryUnsafe makes one call that sends, creates or changes something retry
// on errcode -1 (system error) with backoff, as reads do. By default such a
// call is not retried on -1, because the platform answers -1 now and then
// after it has done the work (delivered the message), and a retry then
// makes a duplicate. Give RetryUnsafe where a duplicate is acceptable, or
// use WithRetryUnsafe for every call of a client. Calls rejected with 45011
// (minute quota) or a rejected access_token are retried without it: the
// platform did not run them.
func RetryUnsafe() CallOption { return func(c *callConfig) { c.retrySystemError = true } }

// Idempotent marks a call made with Client.Do as safe to repeat, such as a
// read: it is then retried on errcode -1 (system error), as the reads of the
// services are. It has the effect of RetryUnsafe; the names say why.
func Idempotent() CallOption { return func(c *callConfig) { c.retrySystemError = true } }

// UseMenuLimits makes one MenuService.Create or AddConditional validate the
// menu against l instead of the client's limits (WithMenuLimits, else
// DefaultMenuLimits()).
func UseMenuLimits(l MenuLimits) CallOption {
	return func(c *callConfig) { c.menu = &menuLimitsValue{limits: l} }
}

// SkipMenuValidation makes one MenuService.Create or AddConditional send the
// menu without validating it, leaving every check to WeChat (whose errors
// are then *wxkit.APIError rather than *MenuError).
func SkipMenuValidation() CallOption {
	return func(c *callConfig) { c.menu = &menuLimitsValue{off: true} }
}

// newCallConfig applies opts (nil ones skipped).
func newCallConfig(opts []CallOption) callConfig {
	var c callConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// wx returns the options of the API caller for c.
func (c callConfig) wx() []wxhttp.CallOption {
	if c.retrySystemError {
		return []wxhttp.CallOption{wxhttp.RetrySystemError()}
	}
	return nil
}
