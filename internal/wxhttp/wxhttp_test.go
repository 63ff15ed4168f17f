package wxhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/token"
)

// countingSource hands out "tok-1", "tok-2", ... through a CachedSource, so
// the invalidate-and-refetch path is the real one.
type countingSource struct {
	fetches atomic.Int32
}

func (s *countingSource) Token(ctx context.Context) (*token.Token, error) {
	n := s.fetches.Add(1)
	return &token.Token{Value: fmt.Sprintf("tok-%d", n), Expiry: time.Now().Add(2 * time.Hour)}, nil
}

// recordingInvalidator wraps an Invalidator and records what it was given.
type recordingInvalidator struct {
	next token.Invalidator
	mu   sync.Mutex
	got  []string
}

func (r *recordingInvalidator) Invalidate(ctx context.Context, bad *token.Token) error {
	r.mu.Lock()
	r.got = append(r.got, bad.Value)
	r.mu.Unlock()
	return r.next.Invalidate(ctx, bad)
}

// setup returns a Client on an httptest server mounted under a path prefix
// (which fails loudly if lost), the mux to register handlers on, and the
// upstream token counter.
func setup(t *testing.T) (*Client, *http.ServeMux, *countingSource, *recordingInvalidator) {
	t.Helper()
	mux := http.NewServeMux()
	outer := http.NewServeMux()
	outer.Handle("/prefix/", http.StripPrefix("/prefix", mux))
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request to %s lost the base URL's path prefix", r.URL.Path)
		http.Error(w, "no prefix", http.StatusNotFound)
	})
	srv := httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	up := &countingSource{}
	cs := token.NewCachedSource(&token.MemoryStore{}, token.AccessTokenKey("wxtest"), up)
	inv := &recordingInvalidator{next: cs}
	c, err := New(srv.URL+"/prefix", srv.Client(), cs)
	if err != nil {
		t.Fatal(err)
	}
	c.Invalidator = inv
	c.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	return c, mux, up, inv
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("Request method = %s, want %s", r.Method, want)
	}
}

type result struct {
	Value string `json:"value"`
}

func TestDoDecodesAndInjectsToken(t *testing.T) {
	t.Parallel()
	c, mux, _, _ := setup(t)
	mux.HandleFunc("/cgi-bin/thing", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "POST")
		if got := r.URL.Query().Get("access_token"); got != "tok-1" {
			t.Errorf("access_token = %q, want tok-1", got)
		}
		if got := r.URL.Query().Get("lang"); got != "zh_CN" {
			t.Errorf("lang = %q, want zh_CN", got)
		}
		b, _ := io.ReadAll(r.Body)
		if diff := cmp.Diff(`{"n":1,"name":"a&b<c>"}`, string(b)); diff != "" {
			t.Errorf("body (-want +got):\n%s", diff)
		}
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok","value":"v"}`)
	})
	req, err := c.NewRequest(t.Context(), "POST", "cgi-bin/thing?lang=zh_CN", map[string]any{"name": "a&b<c>", "n": 1})
	if err != nil {
		t.Fatal(err)
	}
	var got result
	if err := c.Do(req, &got); err != nil {
		t.Fatalf("Do = %v", err)
	}
	if diff := cmp.Diff(result{Value: "v"}, got); diff != "" {
		t.Errorf("Do result (-want +got):\n%s", diff)
	}
}

func TestDoErrcode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"200 with errcode", 200, `{"errcode":40003,"errmsg":"invalid openid rid: 1-2-3"}`, wxkit.ErrInvalidOpenID},
		{"500 with errcode", 500, `{"errcode":48001,"errmsg":"api unauthorized"}`, wxkit.ErrAPIUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _, _ := setup(t)
			mux.HandleFunc("/x", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			req, _ := c.NewRequest(t.Context(), "GET", "x", nil)
			var v result
			err := c.Do(req, &v)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Do = %v, want %v", err, tt.want)
			}
			e, ok := errors.AsType[*wxkit.APIError](err)
			if !ok || e.Method != "GET" || e.Path != "x" {
				t.Errorf("Do error = %#v, want *APIError with Method GET and Path x", err)
			}
		})
	}
	t.Run("500 not JSON", func(t *testing.T) {
		c, mux, _, _ := setup(t)
		mux.HandleFunc("/x", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "<html>oops", 502) })
		req, _ := c.NewRequest(t.Context(), "GET", "x", nil)
		err := c.Do(req, nil)
		if err == nil || !strings.Contains(err.Error(), "HTTP 502") {
			t.Fatalf("Do = %v, want an HTTP 502 error", err)
		}
	})
}

func TestTokenRetry(t *testing.T) {
	t.Parallel()
	for _, code := range []int{40001, 40014, 42001} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			c, mux, up, inv := setup(t)
			var hits atomic.Int32
			var bodies []string
			mux.HandleFunc("/m", func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				b, _ := io.ReadAll(r.Body)
				bodies = append(bodies, string(b))
				if r.URL.Query().Get("access_token") == "tok-1" {
					fmt.Fprintf(w, `{"errcode":%d,"errmsg":"rejected"}`, code)
					return
				}
				fmt.Fprint(w, `{"errcode":0,"value":"ok"}`)
			})
			req, _ := c.NewRequest(t.Context(), "POST", "m", map[string]int{"a": 1})
			var v result
			if err := c.Do(req, &v); err != nil {
				t.Fatalf("Do = %v, want nil after one retry", err)
			}
			if v.Value != "ok" || hits.Load() != 2 || up.fetches.Load() != 2 {
				t.Errorf("value %q, %d hits, %d fetches; want ok, 2, 2", v.Value, hits.Load(), up.fetches.Load())
			}
			if diff := cmp.Diff([]string{"tok-1"}, inv.got); diff != "" {
				t.Errorf("invalidated (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{`{"a":1}`, `{"a":1}`}, bodies); diff != "" {
				t.Errorf("bodies (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("second rejection surfaces", func(t *testing.T) {
		c, mux, up, inv := setup(t)
		var hits atomic.Int32
		mux.HandleFunc("/m", func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			fmt.Fprint(w, `{"errcode":40001,"errmsg":"invalid credential"}`)
		})
		req, _ := c.NewRequest(t.Context(), "GET", "m", nil)
		err := c.Do(req, nil)
		if !errors.Is(err, wxkit.ErrInvalidCredential) {
			t.Fatalf("Do = %v, want ErrInvalidCredential", err)
		}
		if hits.Load() != 2 || up.fetches.Load() != 2 || len(inv.got) != 1 {
			t.Errorf("%d hits, %d fetches, %d invalidations; want 2, 2, 1", hits.Load(), up.fetches.Load(), len(inv.got))
		}
	})
}

func TestBusyRetry(t *testing.T) {
	t.Parallel()
	t.Run("burst absorbed", func(t *testing.T) {
		c, mux, _, _ := setup(t)
		c.MaxAttempts = 5
		c.BaseDelay = 100 * time.Millisecond
		var slept []time.Duration
		c.Sleep = func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }
		var hits atomic.Int32
		codes := []int{-1, 45011, -1}
		mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
			n := int(hits.Add(1))
			if n <= len(codes) {
				fmt.Fprintf(w, `{"errcode":%d,"errmsg":"busy"}`, codes[n-1])
				return
			}
			fmt.Fprint(w, `{"errcode":0,"value":"done"}`)
		})
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		req, _ := c.NewRequest(ctx, "POST", "b", map[string]string{"k": "v"})
		var v result
		if err := c.Do(req, &v, RetrySystemError()); err != nil || v.Value != "done" {
			t.Fatalf("Do = %v, %q; want nil, done", err, v.Value)
		}
		if len(slept) != 3 {
			t.Fatalf("slept %v, want 3 backoffs", slept)
		}
		for i, d := range slept {
			hi := c.BaseDelay << i
			if d < hi/2 || d > hi {
				t.Errorf("backoff %d = %v, want in [%v, %v]", i+1, d, hi/2, hi)
			}
		}
	})
	t.Run("max attempts", func(t *testing.T) {
		c, mux, _, _ := setup(t)
		c.MaxAttempts = 3
		var hits atomic.Int32
		mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			fmt.Fprint(w, `{"errcode":-1,"errmsg":"system error"}`)
		})
		req, _ := c.NewRequest(t.Context(), "GET", "b", nil)
		if err := c.Do(req, nil, RetrySystemError()); !errors.Is(err, wxkit.ErrSystemBusy) {
			t.Fatalf("Do = %v, want ErrSystemBusy", err)
		}
		if hits.Load() != 3 {
			t.Errorf("%d attempts, want 3", hits.Load())
		}
	})
	t.Run("deadline too close", func(t *testing.T) {
		c, mux, _, _ := setup(t)
		c.BaseDelay = time.Hour
		c.MaxDelay = time.Hour
		slept := 0
		c.Sleep = func(ctx context.Context, d time.Duration) error { slept++; return nil }
		var hits atomic.Int32
		mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			fmt.Fprint(w, `{"errcode":45011,"errmsg":"api minute-quota reach limit"}`)
		})
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		req, _ := c.NewRequest(ctx, "GET", "b", nil)
		if err := c.Do(req, nil); !errors.Is(err, wxkit.ErrAPIMinuteQuota) {
			t.Fatalf("Do = %v, want ErrAPIMinuteQuota", err)
		}
		if hits.Load() != 1 || slept != 0 {
			t.Errorf("%d attempts, %d sleeps; want 1, 0 (backoff beyond the deadline)", hits.Load(), slept)
		}
	})
	t.Run("other errcode not retried", func(t *testing.T) {
		c, mux, _, _ := setup(t)
		var hits atomic.Int32
		mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			fmt.Fprint(w, `{"errcode":45009,"errmsg":"reach max api daily quota limit"}`)
		})
		req, _ := c.NewRequest(t.Context(), "GET", "b", nil)
		if err := c.Do(req, nil, RetrySystemError()); !errors.Is(err, wxkit.ErrAPIDailyQuota) || hits.Load() != 1 {
			t.Fatalf("Do = %v after %d attempts, want ErrAPIDailyQuota after 1", err, hits.Load())
		}
	})
}

// TestRetryPolicy: 45011 and a rejected token are retried on every call (the
// platform did not run it); -1 only on the calls marked RetrySystemError or
// by a RetryUnsafe client, whatever the HTTP method.
func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		method   string
		codes    []int // errcodes of the first replies; then success
		opts     []CallOption
		unsafe   bool // Client.RetryUnsafe
		wantHits int32
		wantErr  error // nil: success
	}{
		{name: "send, -1", method: "POST", codes: []int{-1, -1}, wantHits: 1, wantErr: wxkit.ErrSystemBusy},
		{name: "GET without the mark, -1", method: "GET", codes: []int{-1}, wantHits: 1, wantErr: wxkit.ErrSystemBusy},
		{name: "send opted in, -1", method: "POST", codes: []int{-1, -1}, opts: []CallOption{RetrySystemError()}, wantHits: 3},
		{name: "send on a RetryUnsafe client, -1", method: "POST", codes: []int{-1, -1}, unsafe: true, wantHits: 3},
		{name: "POST read, -1", method: "POST", codes: []int{-1, -1}, opts: []CallOption{RetrySystemError()}, wantHits: 3},
		{name: "send, 45011", method: "POST", codes: []int{45011, 45011}, wantHits: 3},
		{name: "read, 45011", method: "GET", codes: []int{45011, 45011}, opts: []CallOption{RetrySystemError()}, wantHits: 3},
		{name: "send, 45011 then -1", method: "POST", codes: []int{45011, -1}, wantHits: 2, wantErr: wxkit.ErrSystemBusy},
		{name: "send, token rejected", method: "POST", codes: []int{40001}, wantHits: 2},
		{name: "send, token rejected then -1", method: "POST", codes: []int{42001, -1}, wantHits: 2, wantErr: wxkit.ErrSystemBusy},
		{name: "nil option", method: "POST", codes: []int{-1}, opts: []CallOption{nil}, wantHits: 1, wantErr: wxkit.ErrSystemBusy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _, _ := setup(t)
			c.RetryUnsafe = tt.unsafe
			var hits atomic.Int32
			mux.HandleFunc("/p", func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, tt.method)
				if n := int(hits.Add(1)); n <= len(tt.codes) {
					fmt.Fprintf(w, `{"errcode":%d,"errmsg":"e rid: 6523d1a2-2b9e1f4a-4b2d3c1e"}`, tt.codes[n-1])
					return
				}
				fmt.Fprint(w, `{"errcode":0,"value":"ok"}`)
			})
			var body any
			if tt.method == "POST" {
				body = map[string]string{"touser": "o1"}
			}
			req, err := c.NewRequest(t.Context(), tt.method, "p", body)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Do(req, nil, tt.opts...)
			if (tt.wantErr == nil) != (err == nil) || !errors.Is(err, tt.wantErr) {
				t.Errorf("Do = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if _, ok := errors.AsType[*wxkit.APIError](err); !ok {
					t.Errorf("Do error %T is not a *wxkit.APIError", err)
				}
			}
			if got := hits.Load(); got != tt.wantHits {
				t.Errorf("%d requests, want %d", got, tt.wantHits)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	const secret = "SECRET_TOKEN_value_0123456789"
	src := token.SourceFunc(func(ctx context.Context) (*token.Token, error) {
		return &token.Token{Value: secret, Expiry: time.Now().Add(time.Hour)}, nil
	})
	tests := []struct {
		name string
		rt   roundTripFunc
	}{
		{"transport error", func(r *http.Request) (*http.Response, error) { return nil, errors.New("connection reset") }},
		{"transport error naming the URL", func(r *http.Request) (*http.Response, error) {
			return nil, fmt.Errorf("cannot reach %s", r.URL)
		}},
		{"errmsg echoing the token", func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{},
				Body: io.NopCloser(strings.NewReader(`{"errcode":40013,"errmsg":"bad ` + r.URL.Query().Get("access_token") + `"}`))}, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New("https://api.example.test/", &http.Client{Transport: tt.rt}, src)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := c.NewRequest(t.Context(), "GET", "cgi-bin/x", nil)
			err = c.Do(req, nil)
			if err == nil {
				t.Fatal("Do = nil, want an error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("Do error %q carries the token", err)
			}
			for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
				if strings.Contains(e.Error(), secret) {
					t.Errorf("wrapped error %q carries the token", e)
				}
			}
		})
	}
	t.Run("canceled keeps errors.Is", func(t *testing.T) {
		c, _ := New("https://api.example.test/", &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return nil, r.Context().Err()
		})}, src)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		req, _ := c.NewRequest(ctx, "GET", "cgi-bin/x", nil)
		if err := c.Do(req, nil); !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), secret) {
			t.Errorf("Do(canceled) = %v, want context.Canceled without the token", err)
		}
	})
}

func TestNoTokenAndNilSource(t *testing.T) {
	t.Parallel()
	c, mux, up, _ := setup(t)
	mux.HandleFunc("/open", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("access_token") {
			t.Errorf("access_token sent on a NoToken request")
		}
		fmt.Fprint(w, `{"value":"x"}`)
	})
	req, _ := c.NewRequest(t.Context(), "GET", "open?appid=a", nil)
	if err := c.Do(req, nil, NoToken()); err != nil {
		t.Fatal(err)
	}
	if up.fetches.Load() != 0 {
		t.Errorf("token fetched for a NoToken request")
	}
	c.Tokens = nil
	req, _ = c.NewRequest(t.Context(), "GET", "open", nil)
	if err := c.Do(req, nil); err != nil {
		t.Fatal(err)
	}
}

func TestNewRequestPaths(t *testing.T) {
	t.Parallel()
	c, _, _, _ := setup(t)
	for _, p := range []string{"/abs", "http://evil/x", "x?access_token=y"} {
		if _, err := c.NewRequest(t.Context(), "GET", p, nil); err == nil {
			t.Errorf("NewRequest(%q) = nil error, want an error", p)
		}
	}
	if _, err := ParseBaseURL("ftp://x/"); err == nil {
		t.Errorf("ParseBaseURL(ftp) = nil error")
	}
	u, err := ParseBaseURL("http://h/p")
	if err != nil || u.String() != "http://h/p/" {
		t.Errorf("ParseBaseURL(http://h/p) = %v, %v; want http://h/p/", u, err)
	}
}

func TestDoRawAndMultipart(t *testing.T) {
	t.Parallel()
	c, mux, _, _ := setup(t)
	mux.HandleFunc("/media/upload", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "POST")
		if r.URL.Query().Get("type") != "image" {
			t.Errorf("type = %q", r.URL.Query().Get("type"))
		}
		f, h, err := r.FormFile("media")
		if err != nil {
			t.Fatalf("FormFile = %v", err)
		}
		b, _ := io.ReadAll(f)
		if string(b) != "PNGDATA" || h.Filename != "a.png" || r.FormValue("description") != "d" {
			t.Errorf("upload = %q %q %q", b, h.Filename, r.FormValue("description"))
		}
		fmt.Fprint(w, `{"media_id":"m1"}`)
	})
	mux.HandleFunc("/media/get", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("media_id") == "bad" {
			fmt.Fprint(w, `{"errcode":40007,"errmsg":"invalid media_id"}`)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte{0x89, 'P', 'N', 'G'})
	})
	req, err := c.NewMultipartRequest(t.Context(), "media/upload?type=image", map[string]string{"description": "d"},
		[]FormFile{{Field: "media", FileName: "a.png", Content: strings.NewReader("PNGDATA")}}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var up struct {
		MediaID string `json:"media_id"`
	}
	if err := c.Do(req, &up); err != nil || up.MediaID != "m1" {
		t.Fatalf("upload = %v, %q", err, up.MediaID)
	}
	if _, err := c.NewMultipartRequest(t.Context(), "media/upload", nil,
		[]FormFile{{Field: "media", FileName: "big", Content: strings.NewReader(strings.Repeat("x", 100))}}, 50); err == nil {
		t.Errorf("oversized upload accepted")
	}
	req, _ = c.NewRequest(t.Context(), "GET", "media/get?media_id=ok", nil)
	resp, err := c.DoRaw(req)
	if err != nil || string(resp.Body) != "\x89PNG" || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("DoRaw = %v, %+v", err, resp)
	}
	req, _ = c.NewRequest(t.Context(), "GET", "media/get?media_id=bad", nil)
	if _, err := c.DoRaw(req); !errors.Is(err, wxkit.ErrInvalidMediaID) {
		t.Fatalf("DoRaw(bad) = %v, want ErrInvalidMediaID", err)
	}
}

func TestReplyCap(t *testing.T) {
	t.Parallel()
	c, mux, _, _ := setup(t)
	c.MaxBody = 64
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"value":"%s"}`, strings.Repeat("x", 100))
	})
	req, _ := c.NewRequest(t.Context(), "GET", "big", nil)
	if err := c.Do(req, nil); err == nil || !strings.Contains(err.Error(), "larger than 64") {
		t.Fatalf("Do(oversized reply) = %v, want a size error", err)
	}
}
