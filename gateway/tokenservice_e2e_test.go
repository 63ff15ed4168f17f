package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/gateway"
	"github.com/wxkit/wxkit/internal/testenv"
	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/token"
)

// End-to-end tests of the central token service (GET /token/{appid} and
// POST /token/{appid}/invalidate) with several in-process gateways sharing
// one SQLite file or one Redis, against the in-process emulator.
//
// How "the token expired" reaches the gateways: tokens expire at the
// instant computed from expires_in on the gateway's clock when it fetched
// them. These tests give the gateways the emulator's clock
// (gateway.WithClock(emu.Now)), so that POST /_emulator/clock moves both.
// Gateways in other processes (cmd/wxkit's tokens e2e test) cannot share
// that clock; there the callers see 42001 when they use the old token,
// report it through POST /token/{appid}/invalidate (token.Remote does it
// for mp.Client), and the gateways converge on one new fetch.

const (
	e2eBearer    = "token-service-e2e-bearer"
	e2eAppSecret = "e2e-app-secret-0123456789abcdef0"
	e2ePushToken = "e2etoken"
)

// newAppID returns a fresh AppID, so that tests sharing one Redis or one
// emulator never touch each other's keys.
func newAppID(t *testing.T) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "wx" + hex.EncodeToString(b[:])
}

// redisURL returns the test Redis URL (testenv.RedisURL) with a key prefix
// unique to the test. When via is not empty, the URL names that host:port
// instead (a proxy in front of the test Redis). testenv skips t when Redis
// is unreachable, or fails it under CI=true.
func redisURL(t *testing.T, via string) string {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL(t))
	if err != nil {
		t.Fatalf("test Redis URL: %v", err)
	}
	if via != "" {
		u.Host = via
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	q := u.Query()
	q.Set("prefix", fmt.Sprintf("wxkit-e2e-%s-%x:", strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()), b))
	u.RawQuery = q.Encode()
	return u.String()
}

// newEmulator starts an emulator hosting appIDs (with e2eAppSecret) on the
// wall clock, so that the stores' own expiry checks agree with it.
func newEmulator(t *testing.T, appIDs ...string) *emulatortest.Server {
	t.Helper()
	var cfg emulator.Config
	for _, id := range appIDs {
		cfg.Apps = append(cfg.Apps, emulator.AppConfig{AppID: id, Secret: e2eAppSecret, Token: e2ePushToken,
			Users: []emulator.UserConfig{{Nickname: "u"}}})
	}
	return emulatortest.New(t, cfg)
}

// gatewayConfig is the configuration of a gateway serving appIDs' tokens
// from the emulator, with tokens in the SQLite file dbPath, or in Redis
// when redis is set.
func gatewayConfig(t *testing.T, emuURL, dbPath, redis string, appIDs ...string) *gateway.Config {
	t.Helper()
	cfg := &gateway.Config{
		Listen:       "127.0.0.1:0",
		Store:        "sqlite://" + dbPath,
		Redis:        redis,
		WeChat:       gateway.WeChatConfig{APIBase: emuURL, OpenBase: emuURL, PayBase: emuURL},
		TokenService: gateway.TokenServiceConfig{Secret: e2eBearer},
		OAuth:        gateway.OAuthConfig{Secret: "e2e-oauth-state-signing-key"},
	}
	for _, id := range appIDs {
		cfg.Apps = append(cfg.Apps, gateway.AppConfig{AppID: id, Secret: e2eAppSecret, Token: e2ePushToken})
	}
	if err := cfg.Normalize(); err != nil {
		t.Fatalf("Config.Normalize = %v", err)
	}
	return cfg
}

// startGateway builds a gateway for cfg, serves it on a loopback test
// server and returns its URL; both are closed when the test ends.
func startGateway(t *testing.T, cfg *gateway.Config, opts ...gateway.Option) string {
	t.Helper()
	g, err := gateway.New(t.Context(), cfg, nil, opts...)
	if err != nil {
		t.Fatalf("gateway.New = %v", err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(func() {
		srv.Close()
		g.Close()
	})
	return srv.URL
}

// getTokens has n callers ask for appID's access_token at once through
// token.Remote, caller i at gateway urls[i%len(urls)], and returns the
// values they got.
func getTokens(t *testing.T, urls []string, appID string, n int) []string {
	t.Helper()
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tok, err := token.NewRemote(urls[i%len(urls)], appID, token.KindAccessToken, e2eBearer).Token(t.Context())
			if err != nil {
				errs[i] = err
				return
			}
			got[i] = tok.Value
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Remote.Token: %v", err)
	}
	return got
}

// same fails the test unless every value of got is the same non-empty
// string, and returns it.
func same(t *testing.T, got []string) string {
	t.Helper()
	for i, v := range got {
		if v == "" || v != got[0] {
			t.Fatalf("caller %d got a different token than caller 0 (%d callers)", i, len(got))
		}
	}
	return got[0]
}

func fetches(emu *emulatortest.Server, appID string) int {
	return emu.Stats().TokenFetches[appID].Total
}

// TestTokenServiceOneFetchPerLifetime: four gateways sharing one store
// serve 50 concurrent callers with exactly one upstream fetch, and exactly
// one more once the token has expired (the gateways share the emulator's
// clock).
func TestTokenServiceOneFetchPerLifetime(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "redis"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			redis := ""
			if backend == "redis" {
				redis = redisURL(t, "")
			}
			appID := newAppID(t)
			emu := newEmulator(t, appID)
			db := filepath.Join(t.TempDir(), "tokens.db")
			var urls []string
			for range 4 {
				urls = append(urls, startGateway(t, gatewayConfig(t, emu.URL, db, redis, appID), gateway.WithClock(emu.Now)))
			}

			first := same(t, getTokens(t, urls, appID, 50))
			if n := fetches(emu, appID); n != 1 {
				t.Fatalf("emulator token fetches after 50 callers = %d, want 1", n)
			}
			if _, err := emu.Advance(2 * time.Hour); err != nil {
				t.Fatal(err)
			}
			second := same(t, getTokens(t, urls, appID, 50))
			if second == first {
				t.Errorf("after expiry the callers still got the expired token")
			}
			if n := fetches(emu, appID); n != 2 {
				t.Errorf("emulator token fetches after expiry = %d, want 2", n)
			}
			// The new token is the one the platform accepts.
			c := mpClient(t, emu, appID, token.NewRemote(urls[0], appID, token.KindAccessToken, e2eBearer))
			if _, err := c.Tag().List(t.Context()); err != nil {
				t.Errorf("Tag().List with the new token = %v", err)
			}
			if got := emu.Stats().Count("/cgi-bin/tags/get", appID); got != (emulator.CallCount{Calls: 1}) {
				t.Errorf("tags/get calls = %+v, want 1 call without error", got)
			}
		})
	}
}

// mpClient returns an mp.Client for appID against the emulator with tokens
// from src.
func mpClient(t *testing.T, emu *emulatortest.Server, appID string, src token.Source) *mp.Client {
	t.Helper()
	c, err := mp.NewClient(appID, "", mp.WithTokenSource(src), mp.WithBaseURL(emu.URL), mp.WithHTTPClient(emu.HTTP.Client()))
	if err != nil {
		t.Fatalf("mp.NewClient = %v", err)
	}
	return c
}

// stableTokenRecorder is an http.RoundTripper that records the
// force_refresh flag of every stable_token request.
type stableTokenRecorder struct {
	mu     sync.Mutex
	forced []bool
}

func (s *stableTokenRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/cgi-bin/stable_token") && r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		var body struct {
			ForceRefresh bool `json:"force_refresh"`
		}
		_ = json.Unmarshal(b, &body)
		s.mu.Lock()
		s.forced = append(s.forced, body.ForceRefresh)
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (s *stableTokenRecorder) calls() []bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bool(nil), s.forced...)
}

// forceRefresh has "someone else" call stable_token with force_refresh,
// which revokes the token every holder was using.
func forceRefresh(t *testing.T, emu *emulatortest.Server, appID string) {
	t.Helper()
	body := fmt.Sprintf(`{"grant_type":"client_credential","appid":%q,"secret":%q,"force_refresh":true}`, appID, e2eAppSecret)
	resp, err := http.Post(emu.URL+"/cgi-bin/stable_token", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(b, []byte(`"access_token"`)) {
		t.Fatalf("forced stable_token = %s", b)
	}
}

// TestTokenServiceInvalidate: a token superseded behind the service's back
// (someone forced a stable_token refresh) costs a service using the
// central token service through token.Remote one transparent retry: the
// rejection is reported through POST /token/{appid}/invalidate, the gateway
// drops the token from the shared store and fetches a new one with
// force_refresh. A caller of another gateway, which still holds the old token
// in memory, also pays one retry and causes no further fetch.
func TestTokenServiceInvalidate(t *testing.T) {
	t.Parallel()
	appID := newAppID(t)
	emu := newEmulator(t, appID)
	db := filepath.Join(t.TempDir(), "tokens.db")
	rec := &stableTokenRecorder{}
	hc := &http.Client{Transport: rec, Timeout: 10 * time.Second}
	var urls []string
	for range 2 {
		urls = append(urls, startGateway(t, gatewayConfig(t, emu.URL, db, "", appID), gateway.WithClock(emu.Now), gateway.WithHTTPClient(hc)))
	}
	old := same(t, getTokens(t, urls, appID, 4))

	forceRefresh(t, emu, appID)
	// Past the platform's 30 s spacing, so that the gateway's own forced
	// refresh does issue a new token.
	if _, err := emu.Advance(31 * time.Second); err != nil {
		t.Fatal(err)
	}
	const calls = 10
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			c := mpClient(t, emu, appID, token.NewRemote(urls[0], appID, token.KindAccessToken, e2eBearer))
			_, errs[i] = c.Tag().List(t.Context())
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Tag().List with a superseded token: %v", err)
	}
	st := emu.Stats()
	if got := st.Count("/cgi-bin/tags/get", appID); got.Calls-got.Errors != calls || got.Errors < 1 || got.Errors > calls {
		t.Errorf("tags/get = %+v, want %d successes after 1..%d rejections", got, calls, calls)
	}
	// One refetch for the burst of rejections. It is forced when the
	// invalidation that deleted the token has told the provider before the
	// refetch starts (a new token is issued); a caller whose own
	// invalidation found nothing to delete may start it a moment sooner,
	// in normal mode, which returns the other holder's valid token. Both
	// are right; the number of tokens issued follows.
	forced := rec.calls()
	if len(forced) != 2 || forced[0] {
		t.Fatalf("gateway stable_token calls, force_refresh flags = %v, want [false, either]", forced)
	}
	wantIssued := 2 // ours, the other holder's forced one
	if forced[1] {
		wantIssued++ // our forced one
	}
	if got := st.TokenFetches[appID].StableToken; got != wantIssued {
		t.Errorf("stable tokens issued = %d, want %d (refetch forced: %v)", got, wantIssued, forced[1])
	}

	// The second gateway still serves the old token from memory: its
	// caller pays one retry too, and no new fetch happens.
	c := mpClient(t, emu, appID, token.NewRemote(urls[1], appID, token.KindAccessToken, e2eBearer))
	if _, err := c.Tag().List(t.Context()); err != nil {
		t.Fatalf("Tag().List through the second gateway = %v", err)
	}
	if got := fetches(emu, appID); got != wantIssued {
		t.Errorf("token fetches after the second gateway's retry = %d, want %d", got, wantIssued)
	}
	now := same(t, getTokens(t, urls, appID, 4))
	if now == old {
		t.Errorf("the gateways still serve the superseded token")
	}
}

// TestTokenServiceInvalidateRequests checks the answers of POST
// /token/{appid}/invalidate to good and bad requests.
func TestTokenServiceInvalidateRequests(t *testing.T) {
	t.Parallel()
	appID := newAppID(t)
	emu := newEmulator(t, appID)
	url := startGateway(t, gatewayConfig(t, emu.URL, filepath.Join(t.TempDir(), "tokens.db"), "", appID))
	cur := same(t, getTokens(t, []string{url}, appID, 1))
	tests := []struct {
		name       string
		method     string
		path       string
		auth       string
		body       string
		wantStatus int
		wantCode   int
	}{
		{"stale token", "POST", "/token/" + appID + "/invalidate", e2eBearer, `{"access_token":"86_not-the-current-one"}`, 200, 0},
		{"stale ticket", "POST", "/token/" + appID + "/invalidate?type=jsapi_ticket", e2eBearer, `{"ticket":"not-the-current-one"}`, 200, 0},
		{"no bearer", "POST", "/token/" + appID + "/invalidate", "", `{"access_token":"x"}`, 401, 41001},
		{"wrong bearer", "POST", "/token/" + appID + "/invalidate", "nope", `{"access_token":"x"}`, 401, 41001},
		{"GET", "GET", "/token/" + appID + "/invalidate", e2eBearer, "", 405, 43002},
		{"unknown app", "POST", "/token/wx00000000000000ff/invalidate", e2eBearer, `{"access_token":"x"}`, 404, 40013},
		{"unknown type", "POST", "/token/" + appID + "/invalidate?type=component", e2eBearer, `{"access_token":"x"}`, 400, 40097},
		{"empty body", "POST", "/token/" + appID + "/invalidate", e2eBearer, "", 400, 47001},
		{"wrong field", "POST", "/token/" + appID + "/invalidate", e2eBearer, `{"ticket":"x"}`, 400, 47001},
		{"not JSON", "POST", "/token/" + appID + "/invalidate", e2eBearer, `access_token=x`, 400, 47001},
		{"too large", "POST", "/token/" + appID + "/invalidate", e2eBearer, `{"access_token":"` + strings.Repeat("a", 20<<10) + `"}`, 400, 47001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, url+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", "Bearer "+tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var got struct {
				ErrCode int    `json:"errcode"`
				ErrMsg  string `json:"errmsg"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%s %s = %d %q: not JSON", tt.method, tt.path, resp.StatusCode, b)
			}
			if resp.StatusCode != tt.wantStatus || got.ErrCode != tt.wantCode {
				t.Errorf("%s %s = %d errcode %d (%s), want %d errcode %d", tt.method, tt.path, resp.StatusCode, got.ErrCode, got.ErrMsg, tt.wantStatus, tt.wantCode)
			}
		})
	}
	// None of them dropped the current token.
	if now := same(t, getTokens(t, []string{url}, appID, 1)); now != cur {
		t.Errorf("the current token changed after invalidations of other values")
	}
	if n := fetches(emu, appID); n != 1 {
		t.Errorf("token fetches = %d, want 1", n)
	}
}

// tokenReply is a decoded answer of GET /token/{appid}.
type tokenReply struct {
	status      int
	AccessToken string `json:"access_token"`
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
}

// getToken asks the service at base for appID's access_token with a
// deadline of d, failing the test when no answer comes before it.
func getToken(t *testing.T, base, appID string, d time.Duration) tokenReply {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/token/"+appID+"?type=access_token", nil)
	req.Header.Set("Authorization", "Bearer "+e2eBearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /token/%s: no answer within %s: %v", appID, d, err)
	}
	defer resp.Body.Close()
	var r tokenReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("GET /token/%s = %d, body not JSON: %v", appID, resp.StatusCode, err)
	}
	r.status = resp.StatusCode
	return r
}

// TestTokenServiceAbsorbsBusyBursts: a short burst of -1 or 45011 from
// stable_token is absorbed by the token service's retries (the caller gets a
// token; the emulator counts the retries); a burst that outlasts them gives
// the caller a clear JSON error at once, not a hang.
func TestTokenServiceAbsorbsBusyBursts(t *testing.T) {
	t.Parallel()
	for _, code := range []int{-1, 45011} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			short, long := newAppID(t), newAppID(t)
			emu := newEmulator(t, short, long)
			url := startGateway(t, gatewayConfig(t, emu.URL, filepath.Join(t.TempDir(), "tokens.db"), "", short, long))
			for _, f := range []emulator.Fault{
				{Path: "/cgi-bin/stable_token", AppID: short, ErrCode: code, Count: 2},
				{Path: "/cgi-bin/stable_token", AppID: long, ErrCode: code, Count: -1},
			} {
				if err := emu.InjectFault(f); err != nil {
					t.Fatal(err)
				}
			}
			if r := getToken(t, url, short, 10*time.Second); r.status != 200 || r.AccessToken == "" {
				t.Errorf("GET /token with a burst of 2 × %d = %d %+v, want 200 and a token", code, r.status, r)
			}
			if got := emu.Stats().Count("/cgi-bin/stable_token", short); got != (emulator.CallCount{Calls: 3, Errors: 2}) {
				t.Errorf("stable_token calls = %+v, want 3 calls, 2 errors", got)
			}
			r := getToken(t, url, long, 10*time.Second)
			if r.status != http.StatusBadGateway || r.ErrCode != code || r.ErrMsg == "" {
				t.Errorf("GET /token during an endless burst of %d = %d %+v, want 502 with errcode %d", code, r.status, r, code)
			}
			if got := emu.Stats().Count("/cgi-bin/stable_token", long); got.Calls != 4 || got.Errors != 4 {
				t.Errorf("stable_token calls during the endless burst = %+v, want 4 attempts", got)
			}
			emu.ClearFaults()
			if r := getToken(t, url, long, 10*time.Second); r.status != 200 || r.AccessToken == "" {
				t.Errorf("GET /token after the burst = %d %+v, want 200 and a token", r.status, r)
			}
		})
	}
}

// redisProxy is a TCP proxy to Redis that the test can cut and restore,
// so that an outage is simulated without stopping the machine's shared
// Redis.
type redisProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  proxyMode
	conns map[net.Conn]struct{}
}

type proxyMode int

const (
	proxyUp     proxyMode = iota
	proxyRefuse           // connections are closed at once
	proxyHang             // connections are accepted and never answered
)

func newRedisProxy(t *testing.T, target string) *redisProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &redisProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { p.handle(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		p.set(proxyRefuse)
		wg.Wait()
	})
	return p
}

func (p *redisProxy) Addr() string { return p.ln.Addr().String() }

// track remembers c unless the proxy is closing it; it reports whether it
// did.
func (p *redisProxy) track(c net.Conn, mode proxyMode) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode != mode {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *redisProxy) handle(c net.Conn) {
	p.mu.Lock()
	mode := p.mode
	p.mu.Unlock()
	switch mode {
	case proxyRefuse:
		c.Close()
		return
	case proxyHang:
		if !p.track(c, proxyHang) {
			c.Close()
			return
		}
		_, _ = io.Copy(io.Discard, c) // until set closes it
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, proxyUp) || !p.track(up, proxyUp) {
		c.Close()
		up.Close()
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
}

// set switches the mode and closes every connection of the previous one.
func (p *redisProxy) set(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// TestTokenServiceRedisOutage: while Redis is unreachable (refusing
// connections, or accepting them and never answering), GET /token for an
// app without a local copy answers 503 with a clear JSON message well
// before the caller's deadline, /healthz answers 503, and an app whose token
// is still in process memory keeps being served; when Redis is back, both
// work again.
func TestTokenServiceRedisOutage(t *testing.T) {
	testenv.RedisAddr(t) // skips, or fails under CI=true, when Redis is down
	t.Parallel()
	for _, mode := range []struct {
		name string
		m    proxyMode
	}{{"refused", proxyRefuse}, {"hung", proxyHang}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			warm, cold := newAppID(t), newAppID(t)
			emu := newEmulator(t, warm, cold)
			proxy := newRedisProxy(t, testenv.RedisAddr(t))
			url := startGateway(t, gatewayConfig(t, emu.URL, filepath.Join(t.TempDir(), "tokens.db"), redisURL(t, proxy.Addr()), warm, cold))
			const deadline = 15 * time.Second

			warmTok := getToken(t, url, warm, deadline)
			if warmTok.status != 200 {
				t.Fatalf("GET /token before the outage = %d %+v", warmTok.status, warmTok)
			}
			proxy.set(mode.m)

			r := getToken(t, url, cold, deadline)
			if r.status != http.StatusServiceUnavailable || r.ErrCode != -1 || !strings.Contains(r.ErrMsg, "token store unavailable") {
				t.Errorf("GET /token during the outage = %d %+v, want 503 errcode -1 \"token store unavailable\"", r.status, r)
			}
			if r := getToken(t, url, warm, deadline); r.status != 200 || r.AccessToken != warmTok.AccessToken {
				t.Errorf("GET /token of an app with a token in memory during the outage = %d %+v, want 200 and its token", r.status, r)
			}
			if code, body := getStatus(t, url+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"redis"`) || strings.Contains(body, `"redis":"ok"`) {
				t.Errorf("readyz during the outage = %d %q, want 503 naming redis", code, body)
			}
			if code, _ := getStatus(t, url+"/healthz"); code != 200 {
				t.Errorf("healthz during the outage = %d, want 200 (alive, not ready)", code)
			}
			if n := fetches(emu, cold); n != 0 {
				t.Errorf("token fetches during the outage = %d, want 0 (no lease, no fetch)", n)
			}

			proxy.set(proxyUp)
			if r := getToken(t, url, cold, deadline); r.status != 200 || r.AccessToken == "" {
				t.Errorf("GET /token after Redis came back = %d %+v, want 200 and a token", r.status, r)
			}
			if code, body := getStatus(t, url+"/readyz"); code != 200 {
				t.Errorf("readyz after Redis came back = %d %q, want 200", code, body)
			}
		})
	}
}

// getStatus GETs target and returns the status and body.
func getStatus(t *testing.T, target string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", target, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
