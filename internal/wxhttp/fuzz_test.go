package wxhttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/token"
)

// fuzzTokenPrefix starts every token the fuzz source hands out, so that a
// leak into an error is found by substring.
const fuzzTokenPrefix = "tokSECRET"

// fuzzSource hands out fuzzTokenPrefix+"1", +"2", ... and counts
// invalidations.
type fuzzSource struct {
	fetches, invalidated int
}

func (s *fuzzSource) Token(context.Context) (*token.Token, error) {
	s.fetches++
	return &token.Token{Value: fmt.Sprintf("%s%d", fuzzTokenPrefix, s.fetches), Expiry: time.Now().Add(time.Hour)}, nil
}

func (s *fuzzSource) Invalidate(context.Context, *token.Token) error {
	s.invalidated++
	return nil
}

// replyTransport answers every request with one status and body.
type replyTransport struct {
	status int
	body   []byte
	calls  int
}

func (rt *replyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.calls++
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: rt.status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(rt.body)),
		Request: r, ProtoMajor: 1, ProtoMinor: 1}, nil
}

// FuzzClientReply sends one call through a Client whose server answers
// any status and body, with Do and DoRaw, and checks the reply handling:
//   - it never panics;
//   - the call succeeds only on a 2xx reply without a non-zero errcode
//     (and, for Do, one that decodes), and then DoRaw returns the body;
//   - a failed call with an errcode is a *wxkit.APIError with that errcode;
//   - retries follow the policy: one token retry, after invalidating the
//     token, for 40001/40014/42001; MaxAttempts attempts for 45011, and for
//     -1 only when retries of unsafe calls are allowed; one attempt
//     otherwise;
//   - no error carries the access_token (unless the reply itself echoed it).
func FuzzClientReply(f *testing.F) {
	f.Add(200, []byte(`{"access_token":"x","expires_in":7200}`), false, false)
	f.Add(200, []byte(`{"errcode":40001,"errmsg":"invalid credential rid: 1-2-3"}`), false, false)
	f.Add(200, []byte(`{"errcode":45011,"errmsg":"api minute-quota reach limit"}`), false, true)
	f.Add(200, []byte(`{"errcode":-1,"errmsg":"system error"}`), true, false)
	f.Add(200, []byte(`{"errcode":-1,"errmsg":"system error"}`), false, false)
	f.Add(500, []byte(`{"errcode":42001}`), false, true)
	f.Add(502, []byte(`<html>bad gateway</html>`), false, false)
	f.Add(200, []byte("\xff\xd8\xff\xe0 JPEG"), false, true)
	f.Add(404, []byte(""), false, true)
	f.Fuzz(func(t *testing.T, status int, body []byte, retryUnsafe, raw bool) {
		if status < 100 || status > 599 {
			status = 200 + (status%400+400)%400
		}
		const maxAttempts = 3
		src := new(fuzzSource)
		rt := &replyTransport{status: status, body: body}
		c := &Client{
			HTTPClient:  &http.Client{Transport: rt},
			Tokens:      src,
			MaxAttempts: maxAttempts,
			RetryUnsafe: retryUnsafe,
			Sleep:       func(context.Context, time.Duration) error { return nil },
		}
		var err error
		var resp *Response
		req, rerr := http.NewRequestWithContext(t.Context(), "GET", "https://api.weixin.qq.com/cgi-bin/fuzz", nil)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if raw {
			resp, err = c.DoRaw(req)
		} else {
			var v map[string]any
			err = c.Do(req, &v)
		}

		// What the reply is, read independently of the Client.
		ok2xx := status/100 == 2
		decodeErr := wxkit.DecodeResponse(body, "GET", "cgi-bin/fuzz", nil)
		apiErr, hasCode := errors.AsType[*wxkit.APIError](decodeErr)
		if raw && !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
			apiErr, hasCode = nil, false // DoRaw reads errcode from JSON objects only
		}
		var vErr error
		if !raw {
			var v map[string]any
			vErr = wxkit.DecodeResponse(body, "GET", "cgi-bin/fuzz", &v)
		}
		wantOK := ok2xx && !hasCode && (raw || vErr == nil)
		if (err == nil) != wantOK {
			t.Fatalf("status %d, body %q: err = %v; want success %v", status, body, err, wantOK)
		}
		if err == nil {
			if raw && (resp == nil || resp.StatusCode != status || !bytes.Equal(resp.Body, body)) {
				t.Fatalf("DoRaw = %+v; want status %d and the body", resp, status)
			}
			if rt.calls != 1 {
				t.Fatalf("a successful call took %d attempts", rt.calls)
			}
			return
		}
		if hasCode {
			if got, ok := errors.AsType[*wxkit.APIError](err); !ok || got.ErrCode != apiErr.ErrCode {
				t.Fatalf("err = %v; want an *APIError with errcode %d", err, apiErr.ErrCode)
			}
		}
		if !bytes.Contains(body, []byte(fuzzTokenPrefix)) && strings.Contains(err.Error(), fuzzTokenPrefix) {
			t.Fatalf("error %q carries the access_token", err)
		}

		wantCalls, wantInvalidated := 1, 0
		if hasCode {
			switch apiErr.ErrCode {
			case 40001, 40014, 42001:
				wantCalls, wantInvalidated = 2, 1
			case 45011:
				wantCalls = maxAttempts
			case -1:
				if retryUnsafe {
					wantCalls = maxAttempts
				}
			}
		}
		if rt.calls != wantCalls || src.invalidated != wantInvalidated || src.fetches != wantCalls {
			t.Fatalf("errcode reply %q: %d attempts, %d invalidations, %d token fetches; want %d, %d, %d",
				body, rt.calls, src.invalidated, src.fetches, wantCalls, wantInvalidated, wantCalls)
		}
	})
}
