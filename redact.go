package wxkit

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
)

// Secret is a string that must never reach a log line or an error message:
// an AppSecret, an access_token, a session_key, an API key. It logs (through
// slog.LogValuer) and prints (through String) as a redacted form that keeps
// at most the first four characters, so that two values can be told apart
// without being revealed.
type Secret string

// String returns the redacted form, never the value.
func (s Secret) String() string { return Redact(string(s)) }

// LogValue implements slog.LogValuer with the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redact(string(s))) }

// Redact returns a form of s that is safe to log: "" for "", "***" for a
// value of 8 characters or fewer, and otherwise the first 4 characters
// followed by "***".
func Redact(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) <= 8:
		return "***"
	default:
		return s[:4] + "***"
	}
}

// ScrubError returns err made safe to log and to return to callers: the
// query and fragment of any *url.Error in it are removed (net/http puts the
// whole URL, access_token or secret included, in its errors), and every
// non-empty value of secrets still in the message is replaced by "***".
//
// When the message had to be rewritten the returned error unwraps only to
// the context error it held (context.Canceled or DeadlineExceeded), if any,
// and to a copy of the *APIError it held with the secrets scrubbed from its
// ErrMsg, since anything else in the chain might carry a secret: errors.Is
// and errors.As still match the errcode. An error that needed no rewriting
// is returned unchanged.
func ScrubError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	var ue *url.Error
	if errors.As(err, &ue) {
		if clean := (&url.Error{Op: ue.Op, URL: stripQuery(ue.URL), Err: ue.Err}).Error(); clean != ue.Error() {
			msg = strings.Replace(msg, ue.Error(), clean, 1)
			changed = true
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "***")
			changed = true
		}
	}
	if !changed {
		return err
	}
	var causes []error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		causes = append(causes, context.DeadlineExceeded)
	case errors.Is(err, context.Canceled):
		causes = append(causes, context.Canceled)
	}
	if ae, ok := errors.AsType[*APIError](err); ok {
		c := *ae
		for _, s := range secrets {
			if s != "" {
				c.ErrMsg = strings.ReplaceAll(c.ErrMsg, s, "***")
			}
		}
		causes = append(causes, &c)
	}
	return &scrubbedError{msg: msg, causes: causes}
}

// stripQuery drops the query and fragment of a URL string.
func stripQuery(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

// scrubbedError is an error whose message was cleaned of secrets.
type scrubbedError struct {
	msg    string
	causes []error
}

func (e *scrubbedError) Error() string   { return e.msg }
func (e *scrubbedError) Unwrap() []error { return e.causes }
