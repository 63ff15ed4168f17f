package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/token"
)

// opsClock is a settable clock for the limiters.
type opsClock struct {
	mu sync.Mutex
	t  time.Time
}

func newOpsClock() *opsClock {
	return &opsClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *opsClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *opsClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// step is one call of a limiter test: advance the clock, then allow(key).
type step struct {
	advance time.Duration
	key     string
	ok      bool
	wait    time.Duration // retryAfter when refused
}

func runSteps(t *testing.T, l *limiter, clk *opsClock, steps []step) {
	t.Helper()
	for i, s := range steps {
		clk.advance(s.advance)
		ok, wait := l.allow(s.key)
		if ok != s.ok || wait != s.wait {
			t.Errorf("step %d: +%v allow(%q) = %v, %v; want %v, %v", i, s.advance, s.key, ok, wait, s.ok, s.wait)
		}
	}
}

func TestLimiterTokenBucket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		rate  float64
		burst int
		steps []step
	}{
		{
			name: "burst then one a second", rate: 1, burst: 3,
			steps: []step{
				{0, "a", true, 0},
				{0, "a", true, 0},
				{0, "a", true, 0},
				{0, "a", false, time.Second},
				{400 * time.Millisecond, "a", false, 600 * time.Millisecond},
				{600 * time.Millisecond, "a", true, 0},
				{0, "a", false, time.Second},
			},
		},
		{
			name: "keys are independent", rate: 1, burst: 1,
			steps: []step{
				{0, "a", true, 0},
				{0, "a", false, time.Second},
				{0, "b", true, 0},
				{0, "b", false, time.Second},
			},
		},
		{
			name: "refill never exceeds the burst", rate: 2, burst: 2,
			steps: []step{
				{0, "a", true, 0},
				{time.Hour, "a", true, 0},
				{0, "a", true, 0},
				{0, "a", false, 500 * time.Millisecond},
			},
		},
		{
			name: "one a minute", rate: 1.0 / 60, burst: 1,
			steps: []step{
				{0, "a", true, 0},
				{10 * time.Second, "a", false, 50 * time.Second},
				{50 * time.Second, "a", true, 0},
			},
		},
		{
			name: "a refused request takes nothing", rate: 1, burst: 1,
			steps: []step{
				{0, "a", true, 0},
				{0, "a", false, time.Second},
				{0, "a", false, time.Second},
				{time.Second, "a", true, 0},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newOpsClock()
			runSteps(t, newLimiter(tc.rate, tc.burst, 0, clk.now), clk, tc.steps)
		})
	}
}

// TestLimiterBoundedMemory: idle keys are forgotten once their bucket
// would be full again, and at most maxKeys are kept, the least recently
// used being dropped.
func TestLimiterBoundedMemory(t *testing.T) {
	t.Parallel()
	t.Run("idle keys", func(t *testing.T) {
		t.Parallel()
		clk := newOpsClock()
		l := newLimiter(1, 10, 0, clk.now) // full again 10 s after last use
		for i := range 100 {
			l.allow(fmt.Sprint("k", i))
		}
		if n := l.len(); n != 100 {
			t.Fatalf("len = %d after 100 keys, want 100", n)
		}
		clk.advance(9 * time.Second)
		l.allow("fresh")
		if n := l.len(); n != 101 {
			t.Errorf("len = %d 9 s later, want 101 (none full yet)", n)
		}
		clk.advance(time.Second)
		l.allow("fresh")
		if n := l.len(); n != 1 {
			t.Errorf("len = %d 10 s later, want 1 (only the key in use)", n)
		}
	})
	t.Run("cap drops the least recently used", func(t *testing.T) {
		t.Parallel()
		clk := newOpsClock()
		l := newLimiter(1, 1, 3, clk.now)
		steps := []step{
			{0, "a", true, 0},
			{0, "b", true, 0},
			{0, "c", true, 0},
			{0, "a", false, time.Second}, // a becomes the most recent
			{0, "d", true, 0},            // drops b, the least recent
			{0, "a", false, time.Second}, // a kept: still empty
			{0, "c", false, time.Second}, // c kept
			{0, "b", true, 0},            // b was forgotten: a full bucket again
		}
		runSteps(t, l, clk, steps)
		if n := l.len(); n != 3 {
			t.Errorf("len = %d, want the cap 3", n)
		}
	})
}

func TestLimiterConcurrent(t *testing.T) {
	t.Parallel()
	clk := newOpsClock()
	l := newLimiter(1, 50, 0, clk.now)
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if ok, _ := l.allow("k"); ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 50 {
		t.Errorf("%d of 200 concurrent requests allowed, want the burst 50", n)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want int64
	}{
		{0, 1},
		{time.Millisecond, 1},
		{time.Second, 1},
		{time.Second + time.Nanosecond, 2},
		{59500 * time.Millisecond, 60},
	} {
		if got := retryAfterSeconds(tc.d); got != tc.want {
			t.Errorf("retryAfterSeconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func mustPrefixes(t *testing.T, ss ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, s := range ss {
		p, err := parseTrustedProxy(s)
		if err != nil {
			t.Fatalf("parseTrustedProxy(%q) = %v", s, err)
		}
		out = append(out, p)
	}
	return out
}

func TestClientIPKey(t *testing.T) {
	t.Parallel()
	trusted := mustPrefixes(t, "10.0.0.0/8", "192.0.2.7", "2001:db8:ffff::/48")
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{name: "peer", remote: "198.51.100.1:5555", want: "198.51.100.1"},
		{name: "forwarded-for ignored without trusted proxies", remote: "198.51.100.1:5555", xff: []string{"203.0.113.9"}, want: "198.51.100.1"},
		{name: "forwarded-for ignored from an untrusted peer", trusted: trusted, remote: "198.51.100.1:5555", xff: []string{"203.0.113.9"}, want: "198.51.100.1"},
		{name: "trusted proxy", trusted: trusted, remote: "10.1.2.3:5555", xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "first untrusted hop from the right", trusted: trusted, remote: "10.1.2.3:5555", xff: []string{"1.1.1.1, 203.0.113.9, 192.0.2.7"}, want: "203.0.113.9"},
		{name: "several headers", trusted: trusted, remote: "10.1.2.3:5555", xff: []string{"1.1.1.1, 203.0.113.9", "10.9.9.9"}, want: "203.0.113.9"},
		{name: "spoofed hop left of the client is ignored", trusted: trusted, remote: "10.1.2.3:5555", xff: []string{"10.0.0.1, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "all trusted: the leftmost", trusted: trusted, remote: "10.1.2.3:5555", xff: []string{"10.0.0.1, 192.0.2.7"}, want: "10.0.0.1"},
		{name: "empty forwarded-for: the proxy", trusted: trusted, remote: "10.1.2.3:5555", want: "10.1.2.3"},
		{name: "garbage hop: the proxy that passed it", trusted: trusted, remote: "10.1.2.3:5555", xff: []string{"203.0.113.9, not-an-ip"}, want: "10.1.2.3"},
		{name: "hop with a port", trusted: trusted, remote: "10.1.2.3:5555", xff: []string{"203.0.113.9:4711"}, want: "203.0.113.9"},
		{name: "IPv6 peer keyed by /64", remote: "[2001:db8:1:2:3:4:5:6]:443", want: "2001:db8:1:2::/64"},
		{name: "IPv6 hop keyed by /64", trusted: trusted, remote: "[2001:db8:ffff::1]:443", xff: []string{"2001:db8:1:2::99"}, want: "2001:db8:1:2::/64"},
		{name: "IPv4-mapped peer", remote: "[::ffff:198.51.100.1]:80", want: "198.51.100.1"},
		{name: "not an address", remote: "@", want: "remote:@"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/oauth/login", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := (clientIPs{trusted: tc.trusted}).key(r); got != tc.want {
				t.Errorf("key(RemoteAddr %q, X-Forwarded-For %q) = %q, want %q", tc.remote, tc.xff, got, tc.want)
			}
		})
	}
}

// TestRateLimitMiddleware: within the burst requests go through; then 429
// with Retry-After and a JSON body carrying the request id; the refusals
// are reported.
func TestRateLimitMiddleware(t *testing.T) {
	t.Parallel()
	clk := newOpsClock()
	l := newLimiter(1.0/60, 2, 0, clk.now)
	var refused atomic.Int32
	h := withRequestID(rateLimit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "through")
	}), l, clientIPs{}.key, func(*http.Request) { refused.Add(1) }))
	do := func(remote string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/oauth/login", nil)
		r.RemoteAddr = remote
		r.Header.Set(RequestIDHeader, "req-42")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for i := range 2 {
		if w := do("198.51.100.1:1"); w.Code != 200 || w.Body.String() != "through" {
			t.Fatalf("request %d = %d %q, want 200 through", i, w.Code, w.Body)
		}
	}
	clk.advance(15 * time.Second)
	w := do("198.51.100.1:2")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("third request = %d, want 429", w.Code)
	}
	if got := w.Header().Get("Retry-After"); got != "45" {
		t.Errorf("Retry-After = %q, want 45", got)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", ct)
	}
	var body jsonError
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	if body.RequestID != "req-42" || !strings.Contains(body.Error, "too many requests") {
		t.Errorf("body = %+v, want the error and request_id req-42", body)
	}
	if w := do("198.51.100.2:1"); w.Code != 200 {
		t.Errorf("another client = %d, want 200", w.Code)
	}
	if n := refused.Load(); n != 1 {
		t.Errorf("onLimited called %d times, want 1", n)
	}
}

// chunked is a body of unknown length.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestLimitJSONBody(t *testing.T) {
	t.Parallel()
	const limit = 16
	for _, tc := range []struct {
		name     string
		body     io.Reader
		wantCode int
		wantSeen string
	}{
		{"no body", nil, 200, ""},
		{"fits", strings.NewReader(`{"a":"0123456"}`), 200, `{"a":"0123456"}`},
		{"exactly the limit", strings.NewReader(strings.Repeat("x", limit)), 200, strings.Repeat("x", limit)},
		{"declared too large", strings.NewReader(strings.Repeat("x", limit+1)), 413, ""},
		{"chunked too large", chunked{strings.NewReader(strings.Repeat("x", 100))}, 413, ""},
		{"chunked fits", chunked{strings.NewReader("{}")}, 200, "{}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seen := ""
			ran := false
			h := limitJSONBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = true
				b, err := io.ReadAll(r.Body)
				if err != nil {
					t.Errorf("handler read: %v", err)
				}
				seen = string(b)
			}), limit)
			r := httptest.NewRequest("POST", "/token/x/invalidate", tc.body)
			if _, ok := tc.body.(chunked); ok {
				r.ContentLength = -1
			}
			r = r.WithContext(contextWithRequestID(r.Context(), "rid-1"))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.wantCode {
				t.Fatalf("status = %d, want %d", w.Code, tc.wantCode)
			}
			if tc.wantCode != 200 {
				if ran {
					t.Error("handler ran for a refused body")
				}
				want := jsonError{Error: "request body larger than 16 bytes", RequestID: "rid-1"}
				var got jsonError
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
					t.Fatalf("body %q: %v", w.Body, err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("413 body (-want +got):\n%s", diff)
				}
				return
			}
			if seen != tc.wantSeen {
				t.Errorf("handler saw %q, want %q", seen, tc.wantSeen)
			}
		})
	}
}

func TestInvalidateGate(t *testing.T) {
	t.Parallel()
	clk := newOpsClock()
	g := newInvalidateGate(30*time.Second, clk.now)
	type call struct {
		advance time.Duration
		app     string
		kind    token.Kind
		ok      bool
	}
	var got, want []bool
	for _, c := range []call{
		{0, "wxa", token.KindAccessToken, true},
		{time.Second, "wxa", token.KindAccessToken, false},
		{0, "wxa", token.KindJSAPITicket, true}, // another kind
		{0, "wxb", token.KindAccessToken, true}, // another app
		{28 * time.Second, "wxa", token.KindAccessToken, false},
		{time.Second, "wxa", token.KindAccessToken, true}, // 30 s after the first
		{0, "wxa", token.KindAccessToken, false},
	} {
		clk.advance(c.advance)
		ok, _ := g.allow(c.app, c.kind)
		got, want = append(got, ok), append(want, c.ok)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("allow sequence (-want +got):\n%s", diff)
	}
	if newInvalidateGate(0, clk.now) != nil {
		t.Error("newInvalidateGate(0) is not nil (no limit)")
	}
	var off *invalidateGate
	for range 3 {
		if ok, _ := off.allow("wxa", token.KindAccessToken); !ok {
			t.Error("nil gate refused")
		}
	}
}

// TestTokenServiceInvalidateGate: reports of rejected tokens cause at most
// one refresh per interval; a report within it keeps the current token,
// and is still answered ok.
func TestTokenServiceInvalidateGate(t *testing.T) {
	t.Parallel()
	clk := newOpsClock()
	var fetches atomic.Int32
	src := token.NewCachedSource(&token.MemoryStore{}, token.AccessTokenKey("wxgate"),
		token.SourceFunc(func(context.Context) (*token.Token, error) {
			return &token.Token{Value: fmt.Sprintf("tok-%d", fetches.Add(1)), Expiry: clk.now().Add(2 * time.Hour)}, nil
		}), token.WithClock(clk.now))
	svc := &tokenService{
		secretSum:     sha256Sum("bearer-secret"),
		apps:          map[string]*appTokens{"wxgate": {access: src}},
		logger:        discardOpsLogger(),
		now:           clk.now,
		invalidations: newInvalidateGate(30*time.Second, clk.now),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/token/{appid}/invalidate", svc.serveInvalidate)
	report := func(bad string) int {
		r := httptest.NewRequest("POST", "/token/wxgate/invalidate", strings.NewReader(`{"access_token":"`+bad+`"}`))
		r.Header.Set("Authorization", "Bearer bearer-secret")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	current := func() string {
		tok, err := src.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return tok.Value
	}
	var got []string
	got = append(got, current())
	for _, adv := range []time.Duration{0, 5 * time.Second, 25 * time.Second} {
		clk.advance(adv)
		if code := report(current()); code != 200 {
			t.Fatalf("invalidate = %d, want 200", code)
		}
		got = append(got, current())
	}
	// tok-1 reported: refreshed; tok-2 reported 5 s later: kept; tok-2
	// reported 30 s after the first report: refreshed.
	if diff := cmp.Diff([]string{"tok-1", "tok-2", "tok-2", "tok-3"}, got); diff != "" {
		t.Errorf("current token after each report (-want +got):\n%s", diff)
	}
}
