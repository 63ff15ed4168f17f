package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/store/postgres/pgtest"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// clusterEnv is n gateways sharing one SQL store (and optionally one
// Redis), each on its own loopback listener, in front of one emulator
// whose demo app auto-approves logins and accepts every gateway's
// redirect_uri; the apps' default reply forwards to a target that counts
// handler runs.
type clusterEnv struct {
	gws     []*webEnv
	emu     *emulatortest.Server
	appID   string
	openID  string
	handled atomic.Int32 // forward-target calls: handler runs
}

// newClusterEnv starts n gateways on storeURL (and redisURL when set), all
// built at the same moment, as instances started together on an empty
// database.
func newClusterEnv(t *testing.T, n int, storeURL, redisURL string) *clusterEnv {
	t.Helper()
	env := &clusterEnv{}
	fwd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.handled.Add(1)
		m, err := message.Parse(readAll(t, &http.Response{Body: r.Body}))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		time.Sleep(50 * time.Millisecond) // a handler that takes a moment, so deliveries overlap
		out, _ := message.AppendReply(nil, m.FromUserName, m.ToUserName, 1, &message.Text{Content: "handled: " + m.Content})
		w.Write(out)
	}))
	t.Cleanup(fwd.Close)

	servers := make([]*httptest.Server, n)
	hosts := make([]string, n)
	for i := range servers {
		servers[i] = httptest.NewUnstartedServer(nil)
		t.Cleanup(servers[i].Close)
		hosts[i] = servers[i].Listener.Addr().String()
	}
	ecfg := emulator.DefaultConfig()
	ea := &ecfg.Apps[0]
	ea.OAuth.Domains = hosts
	ea.OAuth.AutoApprove = ea.Users[0].OpenID
	env.emu = emulatortest.New(t, ecfg)
	env.appID, env.openID = ea.AppID, ea.OAuth.AutoApprove

	env.gws = make([]*webEnv, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cfg := &Config{
				Listen:       hosts[i],
				PublicURL:    "http://" + hosts[i],
				Store:        storeURL,
				Redis:        redisURL,
				OAuth:        OAuthConfig{Secret: testOAuthSecret},
				WeChat:       WeChatConfig{APIBase: env.emu.URL, OpenBase: env.emu.URL, PayBase: env.emu.URL},
				TokenService: TokenServiceConfig{Secret: "cluster-token-service-secret"},
				Apps: []AppConfig{{
					AppID: ea.AppID, Secret: ea.Secret, Token: ea.Token, EncodingAESKey: ea.EncodingAESKey, Mode: ModeSafe,
					Replies: RepliesConfig{Default: &ReplyConfig{Forward: fwd.URL}},
				}},
			}
			if err := cfg.Normalize(); err != nil {
				errs[i] = err
				return
			}
			logs := &logBuffer{}
			g, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			if err != nil {
				errs[i] = fmt.Errorf("instance %d: New = %w", i, err)
				return
			}
			t.Cleanup(func() { g.Close() })
			servers[i].Config.Handler = g.Handler()
			servers[i].Start()
			env.gws[i] = &webEnv{emu: env.emu, g: g, url: "http://" + hosts[i], host: hosts[i], logs: logs, appID: ea.AppID, openID: env.openID}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return env
}

// TestClusterBehavesAsOne: three gateways on one PostgreSQL (and once more
// with Redis added) started at the same moment on an empty database all
// become ready, and then behave as one instance: the same push sent to all
// three at once runs the handler once, gets the same reply from each and
// leaves one message-log row; a user who signs in through A is the same
// user with a valid session on B and C; 3 x 20 concurrent token callers
// make one upstream fetch; logout on C ends the session everywhere.
func TestClusterBehavesAsOne(t *testing.T) {
	for _, withRedis := range []bool{false, true} {
		name := "postgres"
		if withRedis {
			name = "postgres+redis"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			redis := ""
			if withRedis {
				redis = redisURL(t)
			}
			env := newClusterEnv(t, 3, pgtest.SchemaURL(t), redis)
			for i, e := range env.gws {
				if resp, body := get(t, http.DefaultClient, e.url+"/readyz"); resp.StatusCode != http.StatusOK {
					t.Fatalf("instance %d /readyz = %d %s, want 200", i, resp.StatusCode, body)
				}
			}
			t.Run("OnePushOneRun", func(t *testing.T) { env.checkOnePush(t) })
			t.Run("OneLogin", func(t *testing.T) { env.checkOneLogin(t) })
			t.Run("OneTokenFetch", func(t *testing.T) { env.checkOneFetch(t) })
		})
	}
}

// checkOnePush sends one push (one MsgId) to every instance at once.
func (env *clusterEnv) checkOnePush(t *testing.T) {
	app := env.emu.Emulator.Config().Apps[0]
	msg := (&message.Message{ToUserName: app.OriginalID, FromUserName: env.openID, CreateTime: time.Now().Unix(),
		MsgType: message.MsgTypeText, Content: "to all three", MsgID: time.Now().UnixNano()}).AppendXML(nil)
	replies := make([]string, len(env.gws))
	var wg sync.WaitGroup
	for i, e := range env.gws {
		wg.Go(func() {
			r := webhooktest.NewEncryptedRequest(app.Token, app.EncodingAESKey, env.appID, msg, webhook.ModeSafe,
				&webhooktest.RequestOptions{Target: e.url + "/wx/" + env.appID})
			r.RequestURI = ""
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Errorf("instance %d: %v", i, err)
				return
			}
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("instance %d answered %d %s", i, resp.StatusCode, body)
				return
			}
			rm, err := webhooktest.ParseReply(app.Token, app.EncodingAESKey, env.appID, body)
			if err != nil {
				t.Errorf("instance %d reply: %v", i, err)
				return
			}
			if txt, ok := rm.Reply.(*message.Text); ok {
				replies[i] = txt.Content
			}
		})
	}
	wg.Wait()
	if n := env.handled.Load(); n != 1 {
		t.Errorf("the handler ran %d times for one push delivered to 3 instances, want 1", n)
	}
	for i, r := range replies {
		if r != "handled: to all three" {
			t.Errorf("instance %d replied %q, want the one handler's reply", i, r)
		}
	}
	// Durable log: the row is written before the reply.
	if n, err := env.gws[0].g.MessageLog().CountMessages(t.Context(), env.appID); err != nil || n != 1 {
		t.Errorf("message-log rows = %d, %v; want 1", n, err)
	}
}

// checkOneLogin signs in through A and checks B and C, then logs out on C.
func (env *clusterEnv) checkOneLogin(t *testing.T) {
	a, b, c := env.gws[0], env.gws[1], env.gws[2]
	cl := a.noFollow(t)
	auth, _ := a.startLogin(t, cl, url.Values{"return": {"/after"}, "scope": {"snsapi_userinfo"}})
	cb := a.callbackURL(t, cl, auth)
	resp, body := get(t, cl, cb.String())
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("callback on A = %d %s, want 302", resp.StatusCode, body)
	}
	ck := sessionCookie(resp)
	if ck == nil {
		t.Fatal("callback on A set no session cookie")
	}
	var first []byte
	for _, e := range env.gws {
		status, u := meWith(t, e, ck.Value)
		if status != http.StatusOK || u.OpenID != env.openID {
			t.Fatalf("/api/me on %s = %d %+v, want 200 and the user signed in on A", e.host, status, u)
		}
		b, _ := json.Marshal(u)
		if first == nil {
			first = b
		} else if string(b) != string(first) {
			t.Errorf("/api/me on %s = %s, want the same user as on A: %s", e.host, b, first)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), "POST", c.url+"/oauth/logout", nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: ck.Value})
	lresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	lresp.Body.Close()
	for _, e := range []*webEnv{a, b, c} {
		if status, _ := meWith(t, e, ck.Value); status != http.StatusUnauthorized {
			t.Errorf("/api/me on %s after logout on C = %d, want 401", e.host, status)
		}
	}
}

// checkOneFetch has 20 concurrent token callers on each instance.
func (env *clusterEnv) checkOneFetch(t *testing.T) {
	before := env.emu.Stats().TokenFetches[env.appID].Total
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	for _, e := range env.gws {
		for range 20 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/token/"+env.appID, nil)
				req.Header.Set("Authorization", "Bearer cluster-token-service-secret")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Errorf("GET /token: %v", err)
					return
				}
				var tok struct {
					AccessToken string `json:"access_token"`
				}
				json.Unmarshal(readAll(t, resp), &tok)
				if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
					t.Errorf("GET /token on %s = %d", e.host, resp.StatusCode)
					return
				}
				mu.Lock()
				seen[tok.AccessToken]++
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if n := env.emu.Stats().TokenFetches[env.appID].Total - before; n != 1 {
		t.Errorf("upstream token fetches for 3 x 20 callers = %d, want 1", n)
	}
	if len(seen) != 1 {
		t.Errorf("callers got %d different tokens, want 1", len(seen))
	}
}
