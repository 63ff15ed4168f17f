package wxhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// statusError is the error of the test protocol's Checker.
type statusError struct{ status int }

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d", e.status) }

// signedHeader is the test protocol's Authenticator: "n=<attempt> body=<body>".
type signedHeader struct {
	n       atomic.Int32
	revoked atomic.Int32
	revoke  bool
}

func (a *signedHeader) Authorize(r *http.Request, body []byte) (Grant, error) {
	n := a.n.Add(1)
	r.Header.Set("Authorization", fmt.Sprintf("n=%d body=%s", n, body))
	g := Grant{Secrets: []string{fmt.Sprintf("cred-%d", n)}}
	if a.revoke {
		g.Revoke = func(ctx context.Context) error { a.revoked.Add(1); return nil }
	}
	return g, nil
}

// statusCheck accepts 2xx and turns anything else into a *statusError.
func statusCheck(r *http.Request, resp *Response) error {
	if resp.StatusCode/100 != 2 {
		return &statusError{resp.StatusCode}
	}
	return nil
}

// statusPolicy: 401 reauthorizes; 5xx and transport errors back off for
// idempotent calls.
func statusPolicy(f *Failure) Retry {
	var se *statusError
	switch {
	case errors.As(f.Err, &se) && se.status == 401:
		return Reauthorize
	case !f.Idempotent:
		return Stop
	case f.Response == nil, errors.As(f.Err, &se) && se.status >= 500:
		return Backoff
	}
	return Stop
}

// TestCustomProtocol: a Client with its own Authenticator, Checker and
// RetryPolicy authorizes every attempt afresh over the body it sends,
// decodes what the Checker accepted, and retries as the policy says.
func TestCustomProtocol(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		statuses   []int // statuses of the first replies; then 200
		idempotent bool
		revoke     bool
		wantHits   int32
		wantRevoke int32
		wantErr    bool
	}{
		{name: "ok", wantHits: 1},
		{name: "5xx not idempotent", statuses: []int{503}, wantHits: 1, wantErr: true},
		{name: "5xx idempotent", statuses: []int{503, 500}, idempotent: true, wantHits: 3},
		{name: "5xx idempotent beyond max attempts", statuses: []int{503, 503, 503, 503}, idempotent: true, wantHits: 4, wantErr: true},
		{name: "4xx idempotent", statuses: []int{400}, idempotent: true, wantHits: 1, wantErr: true},
		{name: "401 with revoke", statuses: []int{401}, revoke: true, wantHits: 2, wantRevoke: 1},
		{name: "401 twice with revoke", statuses: []int{401, 401}, revoke: true, wantHits: 2, wantRevoke: 1, wantErr: true},
		{name: "401 without revoke", statuses: []int{401}, wantHits: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, up, _ := setup(t)
			auth := &signedHeader{revoke: tt.revoke}
			c.Auth, c.Check, c.Retry = auth, statusCheck, statusPolicy
			var hits atomic.Int32
			var got []string
			mux.HandleFunc("/v3/x", func(w http.ResponseWriter, r *http.Request) {
				n := hits.Add(1)
				b, _ := io.ReadAll(r.Body)
				if r.URL.Query().Has("access_token") {
					t.Errorf("access_token sent although Auth is set")
				}
				got = append(got, r.Header.Get("Authorization"))
				if want := fmt.Sprintf("n=%d body=%s", n, b); r.Header.Get("Authorization") != want {
					t.Errorf("Authorization = %q, want %q", r.Header.Get("Authorization"), want)
				}
				if int(n) <= len(tt.statuses) {
					w.WriteHeader(tt.statuses[n-1])
					return
				}
				fmt.Fprint(w, `{"value":"ok"}`)
			})
			req, err := c.NewRequest(t.Context(), "POST", "v3/x", map[string]int{"a": 1})
			if err != nil {
				t.Fatal(err)
			}
			var opts []CallOption
			if tt.idempotent {
				opts = append(opts, Idempotent())
			}
			var v result
			err = c.Do(req, &v, opts...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Do = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && v.Value != "ok" {
				t.Errorf("Do decoded %+v, want value ok", v)
			}
			if hits.Load() != tt.wantHits || auth.revoked.Load() != tt.wantRevoke {
				t.Errorf("%d attempts, %d revocations; want %d, %d", hits.Load(), auth.revoked.Load(), tt.wantHits, tt.wantRevoke)
			}
			if auth.n.Load() != hits.Load() {
				t.Errorf("%d authorizations for %d attempts", auth.n.Load(), hits.Load())
			}
			for i, h := range got {
				if want := fmt.Sprintf(`n=%d body={"a":1}`, i+1); h != want {
					t.Errorf("attempt %d Authorization = %q, want %q", i+1, h, want)
				}
			}
			if up.fetches.Load() != 0 {
				t.Errorf("Tokens fetched %d times although Auth is set", up.fetches.Load())
			}
		})
	}
}

func TestCustomCheckDecoding(t *testing.T) {
	t.Parallel()
	c, mux, _, _ := setup(t)
	c.Auth, c.Check, c.Retry = &signedHeader{}, statusCheck, statusPolicy
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"value":`) })
	mux.HandleFunc("/errcode", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"errcode":40001,"errmsg":"not this protocol","value":"v"}`)
	})
	var v result
	req, _ := c.NewRequest(t.Context(), "POST", "empty", nil)
	if err := c.Do(req, &v); err != nil || v != (result{}) {
		t.Errorf("Do(204) = %v, %+v; want nil, zero", err, v)
	}
	req, _ = c.NewRequest(t.Context(), "GET", "bad", nil)
	if err := c.Do(req, &v); err == nil || !strings.Contains(err.Error(), "GET bad: decode reply") {
		t.Errorf("Do(truncated JSON) = %v, want a decode error naming the call", err)
	}
	req, _ = c.NewRequest(t.Context(), "GET", "errcode", nil)
	if err := c.Do(req, &v); err != nil || v.Value != "v" {
		t.Errorf("Do(errcode under a custom Check) = %v, %+v; want nil, v (Check alone decides)", err, v)
	}
	req, _ = c.NewRequest(t.Context(), "GET", "empty", nil)
	if resp, err := c.DoRaw(req); err != nil || resp.StatusCode != 204 {
		t.Errorf("DoRaw(204) = %+v, %v", resp, err)
	}
}

// TestGrantSecretsScrubbed: what a Grant names never appears in an error,
// whether it comes from the transport or from Authorize itself.
func TestGrantSecretsScrubbed(t *testing.T) {
	t.Parallel()
	const secret = "grant-SECRET-0123456789"
	authOK := AuthenticatorFunc(func(r *http.Request, body []byte) (Grant, error) {
		r.Header.Set("X-Credential", secret)
		return Grant{Secrets: []string{secret}}, nil
	})
	authFail := AuthenticatorFunc(func(r *http.Request, body []byte) (Grant, error) {
		return Grant{Secrets: []string{secret}}, fmt.Errorf("signer refused %s", secret)
	})
	echo := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("connection reset after %s", r.Header.Get("X-Credential"))
	})
	for _, tc := range []struct {
		name string
		auth Authenticator
	}{{"transport error", authOK}, {"authorize error", authFail}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New("https://api.mch.example.test/", &http.Client{Transport: echo}, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.Auth = tc.auth
			req, _ := c.NewRequest(t.Context(), "GET", "v3/x", nil)
			err = c.Do(req, nil)
			if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "***") {
				t.Errorf("Do = %v, want an error with the secret replaced by ***", err)
			}
		})
	}
}

// TestTransportRetryStopsOnCancel: a backoff that the context cancels ends
// the call with the attempt's error.
func TestTransportRetryStopsOnCancel(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	ctx, cancel := context.WithCancel(t.Context())
	c, err := New("https://api.mch.example.test/", &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		hits.Add(1)
		return nil, errors.New("connection refused")
	})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Retry = statusPolicy
	c.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }
	req, _ := c.NewRequest(ctx, "GET", "v3/x", nil)
	if err := c.Do(req, nil, Idempotent()); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Do = %v, want the transport error", err)
	}
	if diff := cmp.Diff(int32(1), hits.Load()); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}
