package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/webhook"
)

// newTestGateway starts a gateway for the emulator's demo app (secret
// included) with the token service on, served by an httptest server.
func newTestGateway(t *testing.T, tokenSecret string) (*Gateway, *httptest.Server, *emulatortest.Server) {
	t.Helper()
	emu := emulatortest.New(t, emulator.DefaultConfig())
	cfg := &Config{
		Listen:       "127.0.0.1:0",
		Store:        "sqlite://" + filepath.Join(t.TempDir(), "gw.db"),
		WeChat:       WeChatConfig{APIBase: emu.URL, OpenBase: emu.URL, PayBase: emu.URL},
		TokenService: TokenServiceConfig{Secret: tokenSecret},
		Apps: []AppConfig{{AppID: emulator.DemoAppID, Secret: emulator.DemoSecret, Token: emulator.DemoToken,
			EncodingAESKey: emulator.DemoEncodingAESKey, Mode: ModeSafe},
			{AppID: "wx1111111111111111", Token: "nosecretapp"}},
	}
	if err := cfg.Normalize(); err != nil {
		t.Fatal(err)
	}
	g, err := New(t.Context(), cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { g.Close() })
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return g, srv, emu
}

func tsGet(t *testing.T, url, auth string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestTokenServiceAuth(t *testing.T) {
	const secret = "s3cret-bearer-value"
	_, srv, emu := newTestGateway(t, secret)
	url := srv.URL + "/token/" + emulator.DemoAppID + "?type=access_token"
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong secret, same length", "Bearer s3cret-bearer-valuX", http.StatusUnauthorized},
		{"prefix of the secret", "Bearer s3cret", http.StatusUnauthorized},
		{"secret with a suffix", "Bearer " + secret + "x", http.StatusUnauthorized},
		{"other scheme", "Basic " + secret, http.StatusUnauthorized},
		{"no scheme", secret, http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"right secret", "Bearer " + secret, http.StatusOK},
		{"scheme is case-insensitive", "bearer " + secret, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := tsGet(t, url, tc.auth)
			if code != tc.want {
				t.Fatalf("status = %d (%s), want %d", code, body, tc.want)
			}
			if code == http.StatusUnauthorized {
				if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q", h.Get("WWW-Authenticate"))
				}
				if strings.Contains(string(body), "access_token\"") {
					t.Errorf("401 body carries a token: %s", body)
				}
			}
		})
	}
	// Unauthorized calls never reach the platform.
	if n := emu.Stats().Count("/cgi-bin/stable_token", emulator.DemoAppID).Calls; n != 1 {
		t.Errorf("stable_token calls = %d, want 1 (the two authorized calls share one token)", n)
	}
}

func TestTokenServiceAnswers(t *testing.T) {
	const secret = "bearer"
	g, srv, _ := newTestGateway(t, secret)
	// The token the service hands out is the one in the store.
	src, err := g.TokenSource(emulator.DemoAppID, token.KindAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	at, err := src.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tsrc, _ := g.TokenSource(emulator.DemoAppID, token.KindJSAPITicket)
	ticket, err := tsrc.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       int
		wantKey    string // JSON key holding the value
		wantValue  string
	}{
		{"access_token", "/token/" + emulator.DemoAppID + "?type=access_token", http.StatusOK, "access_token", at.Value},
		{"default type", "/token/" + emulator.DemoAppID, http.StatusOK, "access_token", at.Value},
		{"jsapi_ticket", "/token/" + emulator.DemoAppID + "?type=jsapi_ticket", http.StatusOK, "ticket", ticket.Value},
		{"unknown type", "/token/" + emulator.DemoAppID + "?type=card", http.StatusBadRequest, "", ""},
		{"unknown app", "/token/wx9999999999999999", http.StatusNotFound, "", ""},
		{"app without secret", "/token/wx1111111111111111", http.StatusNotFound, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := tsGet(t, srv.URL+tc.path, "Bearer "+secret)
			if code != tc.want {
				t.Fatalf("status = %d (%s), want %d", code, body, tc.want)
			}
			if !strings.HasPrefix(h.Get("Content-Type"), "application/json") || h.Get("Cache-Control") != "no-store" {
				t.Errorf("headers = %v", h)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if tc.wantKey == "" {
				if _, ok := got["errcode"]; !ok {
					t.Errorf("error body %s has no errcode", body)
				}
				return
			}
			if got[tc.wantKey] != tc.wantValue {
				t.Errorf("%s = %v, want %q", tc.wantKey, got[tc.wantKey], tc.wantValue)
			}
			exp, ok := got["expires_in"].(float64)
			if !ok || exp < 300 || exp > 7200 {
				t.Errorf("expires_in = %v, want seconds in [300, 7200]", got["expires_in"])
			}
			if len(got) != 2 {
				t.Errorf("body %s: want exactly the value and expires_in", body)
			}
		})
	}
	// token.Remote, the library's client of the service, reads the same token.
	rt, err := token.NewRemote(srv.URL, emulator.DemoAppID, token.KindAccessToken, secret).Token(t.Context())
	if err != nil || rt.Value != at.Value {
		t.Errorf("token.Remote = %v, %v; want the stored token", rt, err)
	}
}

func TestTokenServiceOffWithoutSecret(t *testing.T) {
	_, srv, _ := newTestGateway(t, "")
	for _, auth := range []string{"", "Bearer ", "Bearer x"} {
		if code, _, _ := tsGet(t, srv.URL+"/token/"+emulator.DemoAppID, auth); code != http.StatusNotFound {
			t.Errorf("token service without a secret (auth %q): status %d, want 404", auth, code)
		}
	}
}

func TestSecretMatchesComparesDigests(t *testing.T) {
	// The comparison runs over fixed-size SHA-256 digests with
	// crypto/subtle, so that its time depends on neither the content nor
	// the length of the secret or the guess.
	s := &tokenService{secretSum: sha256.Sum256([]byte("abc"))}
	for header, want := range map[string]bool{
		"Bearer abc": true, "BEARER abc": true, "Bearer abcd": false, "Bearer ab": false,
		"Bearer": false, "": false, "abc": false, "Bearer  abc": false,
		"Bearer " + strings.Repeat("a", 1<<16): false,
	} {
		if got := s.secretMatches(header); got != want {
			t.Errorf("secretMatches(%.20q) = %v, want %v", header, got, want)
		}
	}
}

func TestHealthzAndReadyz(t *testing.T) {
	g, srv, _ := newTestGateway(t, "")
	code, _, body := tsGet(t, srv.URL+"/healthz", "")
	if code != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("healthz = %d %q, want 200 ok", code, body)
	}
	code, _, body = tsGet(t, srv.URL+"/readyz", "")
	if code != http.StatusOK || !strings.Contains(string(body), `"store":"ok"`) {
		t.Errorf("readyz = %d %s, want 200 with the store check ok", code, body)
	}
	g.Stores().Close() // the store goes away
	if code, _, _ := tsGet(t, srv.URL+"/healthz", ""); code != http.StatusOK {
		t.Errorf("healthz with the store closed = %d, want 200 (liveness does not check stores)", code)
	}
	code, _, body = tsGet(t, srv.URL+"/readyz", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), `"ready":false`) || strings.Contains(string(body), `"store":"ok"`) {
		t.Errorf("readyz with the store closed = %d %s, want 503 naming the store", code, body)
	}
}

func TestGatewayConfigErrorsNameTheKey(t *testing.T) {
	cfg := &Config{Store: "mysql://x"}
	if err := cfg.Normalize(); err == nil || !strings.Contains(err.Error(), "store") {
		t.Errorf("Normalize = %v, want an error naming store", err)
	}
}

// fakeShared is a DedupStore whose answers the test sets.
type fakeShared struct {
	claim                       webhook.Claim
	err                         error
	claims, completes, releases int
}

func (f *fakeShared) Claim(context.Context, string, time.Duration) (webhook.Claim, error) {
	f.claims++
	return f.claim, f.err
}
func (f *fakeShared) Complete(context.Context, string, []byte, time.Duration) error {
	f.completes++
	return nil
}
func (f *fakeShared) Release(context.Context, string) error { f.releases++; return nil }

func TestTieredDedupSharedOutage(t *testing.T) {
	f := &fakeShared{err: errors.New("connection refused")}
	var failures []string
	d := &tieredDedup{local: &webhook.MemoryDedup{}, shared: f, logger: slog.New(slog.DiscardHandler),
		storeError: func(op string) { failures = append(failures, op) }}
	c, err := d.Claim(t.Context(), "k1", time.Minute)
	if err != nil || c.State != webhook.ClaimOwned {
		t.Fatalf("Claim with the shared store down = %v, %v; want owned (memory decides)", c, err)
	}
	// Within sharedPause the shared store is not asked again.
	c, err = d.Claim(t.Context(), "k2", time.Minute)
	if err != nil || c.State != webhook.ClaimOwned || f.claims != 1 {
		t.Errorf("second Claim = %v, %v with %d shared claims; want owned from memory with 1 shared claim", c, err, f.claims)
	}
	if err := d.Complete(t.Context(), "k1", []byte("r"), time.Minute); err != nil {
		t.Errorf("Complete during the outage = %v, want nil", err)
	}
	if c, _ := d.Claim(t.Context(), "k1", time.Minute); c.State != webhook.ClaimDone || string(c.Reply) != "r" {
		t.Errorf("a retry during the outage = %v, want done from memory", c)
	}
	if len(failures) != 1 || failures[0] != "dedup_claim" {
		t.Errorf("counted failures = %v, want one dedup_claim", failures)
	}
	// After the pause the shared store is asked again.
	d.downUntil.Store(time.Now().Add(-time.Millisecond).UnixNano())
	f.err = nil
	f.claim = webhook.Claim{State: webhook.ClaimOwned}
	if c, _ := d.Claim(t.Context(), "k3", time.Minute); c.State != webhook.ClaimOwned || f.claims != 2 {
		t.Errorf("Claim after the pause = %v with %d shared claims, want the shared store asked", c, f.claims)
	}
}

func TestTieredDedup(t *testing.T) {
	ctx := t.Context()
	type step struct {
		shared     webhook.ClaimState
		want       webhook.ClaimState
		wantShared int // shared Claims so far
	}
	for _, tc := range []struct {
		name  string
		steps []step
		after func(d *tieredDedup, f *fakeShared)
	}{
		{"first delivery asks the shared store", []step{{webhook.ClaimOwned, webhook.ClaimOwned, 1}}, nil},
		{"a retry in flight here waits in memory", []step{{webhook.ClaimOwned, webhook.ClaimOwned, 1}, {webhook.ClaimOwned, webhook.ClaimPending, 1}}, nil},
		{"done elsewhere is remembered", []step{{webhook.ClaimDone, webhook.ClaimDone, 1}, {webhook.ClaimOwned, webhook.ClaimDone, 1}}, nil},
		{"pending elsewhere is asked again", []step{{webhook.ClaimPending, webhook.ClaimPending, 1}, {webhook.ClaimPending, webhook.ClaimPending, 2}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeShared{}
			d := &tieredDedup{local: &webhook.MemoryDedup{}, shared: f}
			for i, s := range tc.steps {
				f.claim = webhook.Claim{State: s.shared, Reply: []byte("r")}
				c, err := d.Claim(ctx, "k", time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if c.State != s.want || f.claims != s.wantShared {
					t.Errorf("step %d: Claim = %v with %d shared claims, want %v with %d", i, c.State, f.claims, s.want, s.wantShared)
				}
			}
		})
	}
	t.Run("complete reaches both and answers retries from memory", func(t *testing.T) {
		f := &fakeShared{claim: webhook.Claim{State: webhook.ClaimOwned}}
		d := &tieredDedup{local: &webhook.MemoryDedup{}, shared: f}
		d.Claim(ctx, "k", time.Minute)
		if err := d.Complete(ctx, "k", []byte("reply"), time.Minute); err != nil {
			t.Fatal(err)
		}
		c, _ := d.Claim(ctx, "k", time.Minute)
		if diff := cmp.Diff(webhook.Claim{State: webhook.ClaimDone, Reply: []byte("reply")}, c); diff != "" || f.completes != 1 || f.claims != 1 {
			t.Errorf("after Complete: claim diff %s, completes %d, shared claims %d", diff, f.completes, f.claims)
		}
	})
	t.Run("release frees both", func(t *testing.T) {
		f := &fakeShared{claim: webhook.Claim{State: webhook.ClaimOwned}}
		d := &tieredDedup{local: &webhook.MemoryDedup{}, shared: f}
		d.Claim(ctx, "k", time.Minute)
		d.Release(ctx, "k")
		if c, _ := d.Claim(ctx, "k", time.Minute); c.State != webhook.ClaimOwned || f.releases != 1 || f.claims != 2 {
			t.Errorf("after Release: %v, releases %d, shared claims %d", c.State, f.releases, f.claims)
		}
	})
}
