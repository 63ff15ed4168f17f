package gateway

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
)

// logBuffer collects the gateway's log lines (concurrent writes).
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// webEnv is a gateway served on a loopback listener in front of an
// in-process emulator whose demo app pushes to it and accepts its OAuth
// redirect_uri.
type webEnv struct {
	emu    *emulatortest.Server
	g      *Gateway
	url    string // the gateway's base URL
	host   string // the gateway's host:port
	logs   *logBuffer
	appID  string
	openID string // the emulator user that auto-approves (张三)
}

const testOAuthSecret = "test-oauth-secret-0123456789"

// newWebEnv starts the emulator (DefaultConfig, auto-approving its first
// user) and a gateway for its demo app. edit may change either
// configuration before the gateway is built (the gateway's is normalized
// afterwards).
func newWebEnv(t *testing.T, edit func(cfg *Config, ecfg *emulator.Config)) *webEnv {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	t.Cleanup(ts.Close)
	host := ts.Listener.Addr().String()
	gwURL := "http://" + host

	ecfg := emulator.DefaultConfig()
	ea := &ecfg.Apps[0]
	ea.OAuth.Domains = []string{host}
	ea.OAuth.AutoApprove = ea.Users[0].OpenID
	ea.PushURL = gwURL + "/wx/" + ea.AppID
	cfg := &Config{
		Listen:    host,
		PublicURL: gwURL,
		Store:     "sqlite://" + filepath.Join(t.TempDir(), "gw.db"),
		Webhook:   WebhookConfig{Timeout: Duration(300 * time.Millisecond)},
		OAuth:     OAuthConfig{Secret: testOAuthSecret},
		OpsConfig: OpsConfig{Limits: LimitsConfig{OAuthPerMinute: -1}}, // tests log in many times from one address
		Apps: []AppConfig{{
			AppID:          ea.AppID,
			Secret:         ea.Secret,
			Token:          ea.Token,
			EncodingAESKey: ea.EncodingAESKey,
			Mode:           ModeSafe,
		}},
	}
	if edit != nil {
		edit(cfg, &ecfg)
	}
	emu := emulatortest.New(t, ecfg)
	cfg.WeChat = WeChatConfig{APIBase: emu.URL, OpenBase: emu.URL, PayBase: emu.URL}
	if err := cfg.Normalize(); err != nil {
		t.Fatalf("Normalize = %v", err)
	}
	logs := &logBuffer{}
	g, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	t.Cleanup(func() { g.Close() })
	ts.Config.Handler = g.Handler()
	ts.Start()
	return &webEnv{emu: emu, g: g, url: gwURL, host: host, logs: logs, appID: ea.AppID, openID: ea.OAuth.AutoApprove}
}

// browser returns a client with a cookie jar that follows redirects, as a
// browser would.
func (e *webEnv) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// noFollow returns a client that does not follow redirects, with its own jar.
func (e *webEnv) noFollow(t *testing.T) *http.Client {
	c := e.browser(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// get performs GET u with c and returns the response with its body read.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatalf("GET %s: reading body: %v", u, err)
	}
	return resp, b.String()
}

// startLogin calls /oauth/login with query q (without following) and
// returns the authorize URL it redirects to and the state in it.
func (e *webEnv) startLogin(t *testing.T, c *http.Client, q url.Values) (authorize *url.URL, state string) {
	t.Helper()
	resp, body := get(t, c, e.url+"/oauth/login?"+q.Encode())
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /oauth/login?%s = %d %s, want 302", q.Encode(), resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc, loc.Query().Get("state")
}

// callbackURL follows the authorize URL on the emulator (auto-approve) and
// returns the gateway callback URL it redirects to.
func (e *webEnv) callbackURL(t *testing.T, c *http.Client, authorize *url.URL) *url.URL {
	t.Helper()
	resp, body := get(t, c, authorize.String())
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET authorize = %d %s, want 302", resp.StatusCode, body)
	}
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if cb.Host != e.host || cb.Path != "/oauth/callback" {
		t.Fatalf("authorize redirected to %s, want %s/oauth/callback", cb, e.url)
	}
	return cb
}

// sessionCookie returns the session cookie set by resp, or nil.
func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}
