package wxhttp

import (
	"context"
	"errors"
	"net/url"
	"strings"
)

// Scrub returns err made safe to log: the query of any *url.Error in it (net/http
// puts the full URL, access_token included, in its errors) is removed, and
// any of secrets still in the message is replaced by "***". An error that
// needed the second step keeps only its context error (for errors.Is) in its
// chain. APIErrors pass through unchanged (they never carry a query).
func Scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		clean := &url.Error{Op: ue.Op, URL: stripQuery(ue.URL), Err: ue.Err}
		msg := strings.Replace(err.Error(), ue.Error(), clean.Error(), 1)
		err = &scrubbed{msg: msg, err: clean}
	}
	msg := err.Error()
	leak := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "***")
			leak = true
		}
	}
	if !leak {
		return err
	}
	var keep error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		keep = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		keep = context.Canceled
	}
	return &scrubbed{msg: msg, err: keep}
}

func stripQuery(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
