package gateway

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/store"
)

// redisWebEnv is two gateways, each with its own SQLite file, sharing one
// Redis (as instances behind a load balancer do), in front of one emulator
// whose demo app auto-approves logins and accepts both gateways'
// redirect_uri.
type redisWebEnv struct {
	a, b   *webEnv
	appID  string
	openID string
}

func newRedisWebEnv(t *testing.T) *redisWebEnv {
	t.Helper()
	rurl := redisURL(t)
	servers := []*httptest.Server{httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil)}
	hosts := make([]string, len(servers))
	for i, ts := range servers {
		t.Cleanup(ts.Close)
		hosts[i] = ts.Listener.Addr().String()
	}
	ecfg := emulator.DefaultConfig()
	ea := &ecfg.Apps[0]
	ea.OAuth.Domains = hosts
	ea.OAuth.AutoApprove = ea.Users[0].OpenID
	emu := emulatortest.New(t, ecfg)

	envs := make([]*webEnv, len(servers))
	for i, ts := range servers {
		gwURL := "http://" + hosts[i]
		cfg := &Config{
			Listen:    hosts[i],
			PublicURL: gwURL,
			Store:     "sqlite://" + filepath.Join(t.TempDir(), "gw.db"), // one file per gateway
			Redis:     rurl,
			OAuth:     OAuthConfig{Secret: testOAuthSecret}, // the same on every instance
			WeChat:    WeChatConfig{APIBase: emu.URL, OpenBase: emu.URL, PayBase: emu.URL},
			Apps: []AppConfig{{
				AppID:          ea.AppID,
				Secret:         ea.Secret,
				Token:          ea.Token,
				EncodingAESKey: ea.EncodingAESKey,
				Mode:           ModeSafe,
			}},
		}
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
		envs[i] = &webEnv{emu: emu, g: g, url: gwURL, host: hosts[i], logs: logs, appID: ea.AppID, openID: ea.OAuth.AutoApprove}
	}
	return &redisWebEnv{a: envs[0], b: envs[1], appID: ea.AppID, openID: ea.OAuth.AutoApprove}
}

// onHost returns u with its host replaced by host: the load balancer
// sending the request to another instance.
func onHost(u *url.URL, host string) string {
	v := *u
	v.Host = host
	return v.String()
}

// meWith calls /api/me on e with only the session cookie value and
// returns the status and the decoded user (nil unless 200).
func meWith(t *testing.T, e *webEnv, session string) (int, *store.User) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", e.url+"/api/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: session})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	var u store.User
	if err := json.Unmarshal(body, &u); err != nil {
		t.Fatalf("GET /api/me: %v in %s", err, body)
	}
	return resp.StatusCode, &u
}

// TestOAuthLoginAcrossGatewaysOverRedis: with redis: set, a login started
// on gateway A completes on gateway B (the state nonce is in Redis), the
// session B creates works on A (the session, with the user's profile, is in
// Redis although users stay in each gateway's SQLite file), the state
// cannot be replayed on either instance, and logging out on one instance
// ends the session on both.
func TestOAuthLoginAcrossGatewaysOverRedis(t *testing.T) {
	t.Parallel()
	env := newRedisWebEnv(t)
	a, b := env.a, env.b
	c := a.noFollow(t)

	auth, _ := a.startLogin(t, c, url.Values{"return": {"/after"}, "scope": {"snsapi_userinfo"}})
	cb := a.callbackURL(t, c, auth)             // the emulator sends the browser back to A's public_url...
	resp, body := get(t, c, onHost(cb, b.host)) // ...and the load balancer picks B
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/after" {
		t.Fatalf("callback on B = %d Location %q %s, want 302 /after", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	ck := sessionCookie(resp)
	if ck == nil {
		t.Fatalf("callback on B set no %s cookie", SessionCookie)
	}

	// B recorded the user; A's SQLite file has never seen them.
	stored, err := b.g.web.users.User(t.Context(), env.appID, env.openID)
	if err != nil {
		t.Fatalf("user on B: %v", err)
	}
	if _, err := a.g.web.users.User(t.Context(), env.appID, env.openID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user on A: %v, want ErrUserNotFound (users stay per gateway)", err)
	}
	want := emulator.DefaultConfig().Apps[0].Users[0]
	if stored.Nickname != want.Nickname {
		t.Errorf("stored nickname %q, want %q (snsapi_userinfo profile)", stored.Nickname, want.Nickname)
	}

	// The session from B works on both instances, with the same user.
	for _, e := range []*webEnv{a, b} {
		status, u := meWith(t, e, ck.Value)
		if status != http.StatusOK {
			t.Fatalf("/api/me on %s with B's session = %d, want 200", e.host, status)
		}
		if d := cmp.Diff(*stored, *u); d != "" {
			t.Errorf("/api/me on %s mismatch (-B's user record +got):\n%s", e.host, d)
		}
	}

	// The state is single use across instances.
	for _, e := range []*webEnv{a, b} {
		resp, body := get(t, e.noFollow(t), onHost(cb, e.host))
		if resp.StatusCode != http.StatusBadRequest || sessionCookie(resp) != nil {
			t.Errorf("replayed callback on %s = %d %s (cookie %v), want 400 and no session", e.host, resp.StatusCode, body, sessionCookie(resp) != nil)
		}
	}

	// Logout on A ends the session on B too.
	req, _ := http.NewRequestWithContext(t.Context(), "POST", a.url+"/oauth/logout", nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: ck.Value})
	lresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	lresp.Body.Close()
	if lresp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /oauth/logout on A = %d, want 204", lresp.StatusCode)
	}
	if status, _ := meWith(t, b, ck.Value); status != http.StatusUnauthorized {
		t.Errorf("/api/me on B after logout on A = %d, want 401", status)
	}
}

// TestOAuthRedisStateRefusedWithoutItsNonce: a correctly signed state whose
// nonce is not in Redis (another deployment, or one that was taken) is
// refused, so instances only complete logins that an instance sharing the
// Redis started.
func TestOAuthRedisStateRefusedWithoutItsNonce(t *testing.T) {
	t.Parallel()
	env := newRedisWebEnv(t)
	now := time.Now()
	_, state, err := env.a.g.web.signer.newLoginState(env.appID, "/x", false, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"app": {env.appID}, "code": {"any"}, "state": {state}}
	resp, body := get(t, env.b.noFollow(t), env.b.url+"/oauth/callback?"+q.Encode())
	if resp.StatusCode != http.StatusBadRequest || sessionCookie(resp) != nil {
		t.Errorf("callback with an unstored nonce = %d %s, want 400 and no session", resp.StatusCode, body)
	}
}
