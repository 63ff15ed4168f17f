package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/wxkit/wxkit"
)

// maxReply caps the size of an API reply.
const maxReply = 1 << 20

// get sends GET {APIBase}path?query and decodes the JSON reply into v with
// wxkit.DecodeResponse, so that a non-zero errcode becomes a
// *wxkit.APIError labelled "GET path". The query may carry secrets (the
// AppSecret, tokens): they are scrubbed from any error, and the query is
// removed from a *url.Error.
func (c *Config) get(ctx context.Context, path string, query url.Values, v any, secrets ...string) error {
	const method = http.MethodGet
	u := withSlash(c.APIBase, DefaultAPIBase) + path + "?" + query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return scrub(fmt.Errorf("wxkit: %s %s: %w", method, path, err), secrets)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client().Do(req)
	if err != nil {
		return scrub(fmt.Errorf("wxkit: %s %s: %w", method, path, err), secrets)
	}
	defer resp.Body.Close()
	b, err := wxkit.ReadLimited(resp.Body, maxReply)
	if err != nil {
		return scrub(fmt.Errorf("wxkit: %s %s: read reply: %w", method, path, err), secrets)
	}
	if resp.StatusCode/100 != 2 {
		// A JSON errcode wins over the HTTP status.
		var ae *wxkit.APIError
		if err := wxkit.DecodeResponse(b, method, path, nil); errors.As(err, &ae) {
			return ae
		}
		return fmt.Errorf("wxkit: %s %s: HTTP %d", method, path, resp.StatusCode)
	}
	return scrub(wxkit.DecodeResponse(b, method, path, v), secrets)
}

// scrub returns err with the URL of any *url.Error cut before its query
// and every secret replaced by "***". Context errors stay reachable with
// errors.Is.
func scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	var ae *wxkit.APIError
	if errors.As(err, &ae) {
		return err // carries method, path, errcode and errmsg only
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		clean := (&url.Error{Op: ue.Op, URL: stripQuery(ue.URL), Err: ue.Err}).Error()
		msg = strings.Replace(msg, ue.Error(), clean, 1)
	}
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	return &scrubbedError{msg: msg, cause: ctxCause(err)}
}

// ctxCause returns the context error inside err, or nil.
func ctxCause(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return context.Canceled
	}
	return nil
}

// stripQuery drops the query and fragment of a URL string.
func stripQuery(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

// scrubbedError is an error whose message was cleaned of secrets. It
// unwraps to a context error only, since anything else might carry one.
type scrubbedError struct {
	msg   string
	cause error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.cause }
