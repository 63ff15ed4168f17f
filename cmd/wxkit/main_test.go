package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/store/sqlite"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// syncBuffer is an io.Writer safe for the concurrent writes of a running Main.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a Main started in the background (wtf's MustRunMain).
type running struct {
	gatewayURL, emulatorURL string
	stdout, stderr          *syncBuffer
	cancel                  context.CancelFunc
	done                    chan error
}

// mustRunMain runs args in a Main on its own goroutine and waits until it
// listens. The Main is stopped (as by SIGTERM) when the test ends, and must
// then exit cleanly.
func mustRunMain(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	r := &running{stdout: new(syncBuffer), stderr: new(syncBuffer), done: make(chan error, 1)}
	ready := make(chan struct{})
	m := &Main{
		Stdout: r.stdout, Stderr: r.stderr,
		Getenv: func(k string) string { return env[k] },
		Ready: func(gw, emu string) {
			r.gatewayURL, r.emulatorURL = gw, emu
			close(ready)
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- m.Run(ctx, args) }()
	select {
	case <-ready:
	case err := <-r.done:
		cancel()
		t.Fatalf("wxkit %s exited before listening: %v\nstderr:\n%s", strings.Join(args, " "), err, r.stderr)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("wxkit %s did not start listening\nstderr:\n%s", strings.Join(args, " "), r.stderr)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("wxkit %s: exit after shutdown: %v", strings.Join(args, " "), err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("wxkit %s did not shut down", strings.Join(args, " "))
		}
	})
	return r
}

// runMain runs a short command (push, token) and returns its stdout.
func runMain(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}
	err := m.Run(t.Context(), args)
	return out.String(), err
}

const (
	testToken  = "e2etoken"
	testAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// testApp is one app of the end-to-end setup.
type testApp struct {
	appID string
	mode  string
	// def is the YAML of replies.default.
	def string
	// defReply is what the default rule answers a message with (nil: success).
	defReply func(m *message.Message) message.Reply
}

var e2eApps = []testApp{
	{appID: "wx00000000000000a1", mode: "plain", def: `{ echo: true }`, defReply: func(m *message.Message) message.Reply {
		if m.MsgType == message.MsgTypeText {
			return &message.Text{Content: m.Content}
		}
		return nil
	}},
	{appID: "wx00000000000000a2", mode: "compat", def: `{ text: "default reply" }`, defReply: func(*message.Message) message.Reply {
		return &message.Text{Content: "default reply"}
	}},
	{appID: "wx00000000000000a3", mode: "safe", def: `{ news: [ { title: "wxkit news", description: "d", url: "https://example.com/n" } ] }`,
		defReply: func(*message.Message) message.Reply {
			return &message.News{Articles: []message.Article{{Title: "wxkit news", Description: "d", URL: "https://example.com/n"}}}
		}},
}

// expectedReply applies the configured rules of app to m: the test's own
// statement of what the gateway must answer.
func (a testApp) expectedReply(m *message.Message) message.Reply {
	switch {
	case m.MsgType == message.MsgTypeEvent && m.Event == message.EventTypeSubscribe:
		return &message.Text{Content: "welcome"}
	case m.MsgType == message.MsgTypeEvent && m.Event == message.EventTypeClick && m.EventKey == "EVENTKEY":
		return &message.Text{Content: "clicked"}
	case m.MsgType == message.MsgTypeText && m.Content == "this is a test":
		return &message.Text{Content: "exact hit"}
	case m.MsgType == message.MsgTypeText && strings.Contains(m.Content, "价格"):
		return &message.Text{Content: "price list"}
	case m.MsgType == message.MsgTypeText && strings.HasPrefix(m.Content, "order "):
		return &message.Text{Content: "your order " + strings.TrimPrefix(m.Content, "order ")}
	}
	return a.defReply(m)
}

// e2e is the running setup: an emulator hosting every app, pushing to a
// gateway started through Main with a configuration file.
type e2e struct {
	emu     *emulatortest.Server
	gw      *running
	dbPath  string
	users   map[string][]string // appid → openids of the users
	forward atomic.Int32        // calls of the forward target
}

const (
	badPlainApp = "wx00000000000000b1"
	badSafeApp  = "wx00000000000000b2"
)

func startE2E(t *testing.T) *e2e {
	t.Helper()
	s := &e2e{users: map[string][]string{}}
	// Forward target of the bad-input apps: counts calls, answers a text.
	fwd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.forward.Add(1)
		b, _ := io.ReadAll(r.Body)
		m, err := message.Parse(b)
		if err != nil {
			http.Error(w, "bad xml", http.StatusBadRequest)
			return
		}
		out, _ := message.AppendReply(nil, m.FromUserName, m.ToUserName, time.Now().Unix(), &message.Text{Content: "forwarded " + m.Content})
		w.Write(out)
	}))
	t.Cleanup(fwd.Close)

	var ecfg emulator.Config
	for _, a := range e2eApps {
		ecfg.Apps = append(ecfg.Apps, emulator.AppConfig{AppID: a.appID, Secret: "secret" + a.appID, Token: testToken,
			EncodingAESKey: testAESKey, Mode: emulator.Mode(a.mode), Users: make([]emulator.UserConfig, 100)})
	}
	ecfg.Push.Timeout = 5 * time.Second
	s.emu = emulatortest.New(t, ecfg)
	for _, a := range s.emu.Apps() {
		for _, u := range a.Users {
			s.users[a.AppID] = append(s.users[a.AppID], u.OpenID)
		}
	}

	dir := t.TempDir()
	s.dbPath = filepath.Join(dir, "gw.db")
	var y strings.Builder
	fmt.Fprintf(&y, "listen: 127.0.0.1:0\nstore: sqlite://%s\nwechat: { api_base: %s, open_base: %s, pay_base: %s }\n",
		s.dbPath, s.emu.URL, s.emu.URL, s.emu.URL)
	fmt.Fprintf(&y, "token_service: { secret: e2e-bearer }\nwebhook: { max_body_bytes: 16384 }\nlog: { level: debug }\napps:\n")
	for _, a := range e2eApps {
		fmt.Fprintf(&y, `  - appid: %s
    secret: secret%s
    token: %s
    encoding_aes_key: %s
    mode: %s
    replies:
      subscribe: { text: "welcome" }
      clicks: { EVENTKEY: { text: "clicked" } }
      keywords:
        - { match: "this is a test", text: "exact hit" }
        - { contains: "价格", text: "price list" }
        - { regex: "^order (\\d+)$", text: "your order $1" }
      default: %s
`, a.appID, a.appID, testToken, testAESKey, a.mode, a.def)
	}
	for _, b := range []struct{ id, mode string }{{badPlainApp, "plain"}, {badSafeApp, "safe"}} {
		fmt.Fprintf(&y, "  - { appid: %s, token: %s, encoding_aes_key: %s, mode: %s, replies: { default: { forward: %q } } }\n",
			b.id, testToken, testAESKey, b.mode, fwd.URL)
	}
	cfgPath := filepath.Join(dir, "wxkit.yaml")
	if err := os.WriteFile(cfgPath, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	s.gw = mustRunMain(t, nil, "serve", "--config", cfgPath)
	for _, a := range e2eApps {
		if err := s.emu.SetPushURL(a.appID, s.gw.gatewayURL+"/wx/"+a.appID); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// rows counts the message log rows of appID, read through a connection of
// its own, as another process would.
func (s *e2e) rows(t *testing.T, appID string) int {
	t.Helper()
	db, err := sqlite.Open("sqlite://" + s.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM wxkit_message_log WHERE app_id = ?`, appID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// replyOf converts the emulator's view of a reply to a message.Reply.
func replyOf(r *emulator.Reply) message.Reply {
	if r == nil {
		return nil
	}
	switch r.Type {
	case emulator.MsgTypeText:
		return &message.Text{Content: r.Content}
	case emulator.MsgTypeNews:
		n := &message.News{}
		for _, a := range r.Articles {
			n.Articles = append(n.Articles, message.Article{Title: a.Title, Description: a.Description, PicURL: a.PicURL, URL: a.URL})
		}
		return n
	}
	return &message.Text{Content: "unexpected reply type " + string(r.Type)}
}

func TestServeEveryCorpusMessageInEveryMode(t *testing.T) {
	s := startE2E(t)
	files := corpus.Glob(t, "messages/*.xml")
	for _, app := range e2eApps {
		t.Run(app.mode, func(t *testing.T) {
			seen := map[string]message.Reply{} // dedup key → first reply
			if len(files) > len(s.users[app.appID]) {
				t.Fatalf("%d corpus messages, %d users: add users", len(files), len(s.users[app.appID]))
			}
			for i, f := range files {
				// Every message comes from another user, so that an
				// unsubscribe does not silence the rest.
				user := s.users[app.appID][i]
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				// Corpus samples share MsgIds (1234567890123456); real MsgIds
				// are unique per account. Give each sample its own, so that a
				// repeated MsgId means a retry, as on the platform.
				raw = msgIDPattern.ReplaceAll(raw, fmt.Appendf(nil, "<${1}>%d</${1}>", 6_000_000_000+i))
				m, err := message.Parse(bytes.Clone(raw))
				if err != nil {
					t.Fatalf("%s: corpus message does not parse: %v", filepath.Base(f), err)
				}
				direct := m.InfoType != "" // Open Platform pushes go to no user's app: deliver them directly
				if !direct {
					m.FromUserName = user // the emulator sends it from the user
				}
				want := app.expectedReply(m)
				key := m.DedupKey()
				if first, dup := seen[key]; dup {
					want = first // a repeated key is a retry: the first answer again
				} else {
					seen[key] = want
				}
				if direct {
					got := s.deliverDirect(t, app, raw)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%s: reply mismatch (-want +got):\n%s", filepath.Base(f), diff)
					}
					continue
				}
				res, err := s.emu.Push(t.Context(), app.appID, emulator.PushRequest{User: user, RawXML: string(raw)})
				if err != nil {
					t.Fatalf("%s: Push: %v", filepath.Base(f), err)
				}
				if !res.OK() {
					t.Errorf("%s: push failed: %s", filepath.Base(f), res.Error)
					continue
				}
				if diff := cmp.Diff(want, replyOf(res.Reply)); diff != "" {
					t.Errorf("%s: reply mismatch (-want +got):\n%s", filepath.Base(f), diff)
				}
				if want == nil && !res.NoReply {
					t.Errorf("%s: NoReply = false, want success", filepath.Base(f))
				}
			}
			if got := s.rows(t, app.appID); got != len(seen) {
				t.Errorf("message log rows = %d, want %d (one per distinct message)", got, len(seen))
			}
		})
	}
}

// deliverDirect pushes raw to app's webhook as WeChat would in the app's
// mode and returns the reply (nil for "success").
func (s *e2e) deliverDirect(t *testing.T, app testApp, raw []byte) message.Reply {
	t.Helper()
	opts := &webhooktest.RequestOptions{Target: "/wx/" + app.appID}
	code, body := post(t, s.gw.gatewayURL, webhooktest.NewEncryptedRequest(testToken, testAESKey, app.appID, raw, webhook.Mode(app.mode), opts))
	if code != http.StatusOK {
		t.Fatalf("direct push: status %d: %s", code, body)
	}
	if string(body) == "success" {
		return nil
	}
	rm, err := webhooktest.ParseReply(testToken, testAESKey, app.appID, body)
	if err != nil {
		t.Fatalf("direct push: %v", err)
	}
	return rm.Reply
}

var msgIDPattern = regexp.MustCompile(`<(MsgI[dD])>\s*\d+\s*</MsgI[dD]>`)

// post sends r (built by webhooktest for a server) to the gateway.
func post(t *testing.T, base string, r *http.Request) (int, []byte) {
	t.Helper()
	u := base + r.URL.RequestURI()
	req, err := http.NewRequestWithContext(t.Context(), r.Method, u, r.Body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = r.Header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func textXML(from string, msgID int64, content string) []byte {
	m := &message.Message{ToUserName: "gh_0123456789ab", FromUserName: from, CreateTime: time.Now().Unix(),
		MsgType: message.MsgTypeText, Content: content, MsgID: msgID}
	return m.AppendXML(nil)
}

func TestServeDuplicateDeliveryOneRowSameReply(t *testing.T) {
	s := startE2E(t)
	app := e2eApps[2] // safe
	target := &webhooktest.RequestOptions{Target: "/wx/" + app.appID}
	msg := textXML("oDupUser", 7000000001, "order 42")
	deliver := func() string {
		code, body := post(t, s.gw.gatewayURL, webhooktest.NewEncryptedRequest(testToken, testAESKey, app.appID, msg, webhook.ModeSafe, target))
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
		rm, err := webhooktest.ParseReply(testToken, testAESKey, app.appID, body)
		if err != nil {
			t.Fatalf("ParseReply: %v", err)
		}
		txt, ok := rm.Reply.(*message.Text)
		if !ok {
			t.Fatalf("reply %T, want text", rm.Reply)
		}
		return txt.Content
	}
	// WeChat's retry: the same message again, newly signed and encrypted;
	// then two more at once.
	got := []string{deliver(), deliver()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 2 {
		wg.Go(func() {
			c := deliver()
			mu.Lock()
			got = append(got, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	want := []string{"your order 42", "your order 42", "your order 42", "your order 42"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replies (-want +got):\n%s", diff)
	}
	if n := s.rows(t, app.appID); n != 1 {
		t.Errorf("message log rows = %d, want 1", n)
	}
}

func TestServeRejectsBadInputAndChangesNothing(t *testing.T) {
	s := startE2E(t)
	now := time.Now().Unix()
	plain := &webhooktest.RequestOptions{Target: "/wx/" + badPlainApp}
	safe := &webhooktest.RequestOptions{Target: "/wx/" + badSafeApp}
	old := &webhooktest.RequestOptions{Target: "/wx/" + badSafeApp, Timestamp: now - 600}
	oldPlain := &webhooktest.RequestOptions{Target: "/wx/" + badPlainApp, Timestamp: now - 301}
	msg := textXML("oBad", 8000000001, "hi")
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
	}{
		{"wrong signature", webhooktest.NewSignedRequest("wrongtoken", msg, plain), http.StatusForbidden},
		{"wrong msg_signature", webhooktest.NewEncryptedRequest("wrongtoken", testAESKey, badSafeApp, msg, webhook.ModeSafe, safe), http.StatusForbidden},
		{"stale timestamp", webhooktest.NewSignedRequest(testToken, msg, oldPlain), http.StatusForbidden},
		{"replay of a 10-minute-old request", webhooktest.NewEncryptedRequest(testToken, testAESKey, badSafeApp, msg, webhook.ModeSafe, old), http.StatusForbidden},
		{"malformed XML", webhooktest.NewSignedRequest(testToken, []byte("<xml><ToUserName><![CDATA[x]]></ToUserName><MsgType>"), plain), http.StatusBadRequest},
		{"oversized body", webhooktest.NewSignedRequest(testToken, textXML("oBad", 8000000002, strings.Repeat("x", 20000)), plain), http.StatusRequestEntityTooLarge},
		{"wrong AppID inside the ciphertext", webhooktest.NewEncryptedRequest(testToken, testAESKey, "wx9999999999999999", msg, webhook.ModeSafe, safe), http.StatusForbidden},
		{"plaintext push to a safe-mode app", webhooktest.NewSignedRequest(testToken, msg, safe), http.StatusForbidden},
		{"wrong method", func() *http.Request {
			r := webhooktest.NewSignedRequest(testToken, msg, plain)
			r.Method = http.MethodPut
			return r
		}(), http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, s.gw.gatewayURL, tc.req)
			if code != tc.want {
				t.Errorf("status = %d (%s), want %d", code, bytes.TrimSpace(body), tc.want)
			}
			if n := s.forward.Load(); n != 0 {
				t.Errorf("handler ran %d times, want 0", n)
			}
			if n := s.rows(t, badPlainApp) + s.rows(t, badSafeApp); n != 0 {
				t.Errorf("message log rows = %d, want 0", n)
			}
		})
	}
	// The same setup accepts a good request: the checks above can fail.
	code, body := post(t, s.gw.gatewayURL, webhooktest.NewEncryptedRequest(testToken, testAESKey, badSafeApp, msg, webhook.ModeSafe, safe))
	if code != http.StatusOK {
		t.Fatalf("good request: status %d: %s", code, body)
	}
	rm, err := webhooktest.ParseReply(testToken, testAESKey, badSafeApp, body)
	if err != nil {
		t.Fatalf("good request: %v", err)
	}
	if diff := cmp.Diff(message.Reply(&message.Text{Content: "forwarded hi"}), rm.Reply); diff != "" {
		t.Errorf("good request reply (-want +got):\n%s", diff)
	}
	if n := s.forward.Load(); n != 1 {
		t.Errorf("forward calls = %d, want 1", n)
	}
	if n := s.rows(t, badSafeApp); n != 1 {
		t.Errorf("rows = %d, want 1", n)
	}
}

func TestServeHealthzAndTokenService(t *testing.T) {
	s := startE2E(t)
	resp, err := http.Get(s.gw.gatewayURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz = %d, want 200", resp.StatusCode)
	}
	// wxkit token prints the same token the gateway serves, through the store.
	cfgArgs := []string{"token", "--config", filepath.Join(filepath.Dir(s.dbPath), "wxkit.yaml"), e2eApps[0].appID}
	tok, err := runMain(t, nil, cfgArgs...)
	if err != nil || strings.TrimSpace(tok) == "" {
		t.Fatalf("wxkit token = %q, %v", tok, err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.gw.gatewayURL+"/token/"+e2eApps[0].appID+"?type=access_token", nil)
	req.Header.Set("Authorization", "Bearer e2e-bearer")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"access_token":"`+strings.TrimSpace(tok)+`"`) {
		t.Errorf("token service = %d %s, want the token printed by wxkit token", resp.StatusCode, b)
	}
	if st := s.emu.Stats(); st.Count("/cgi-bin/stable_token", e2eApps[0].appID).Calls != 1 {
		t.Errorf("stable_token calls = %+v, want exactly 1 (the CLI and the gateway share the store)", st.Count("/cgi-bin/stable_token", e2eApps[0].appID))
	}
}

func TestServeConfigErrorNamesKey(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"bad aes key", "apps:\n  - { appid: wx0123456789abcdef, token: abcdef, encoding_aes_key: short, mode: safe }\n", "apps[0].encoding_aes_key"},
		{"unknown key", "listen: 127.0.0.1:0\nlisten_port: 9\n", "listen_port"},
		{"bad keyword", "apps:\n  - { appid: wx0123456789abcdef, token: abcdef, replies: { keywords: [ { regex: \"(\", text: x } ] } }\n", "apps[0].replies.keywords[0].regex"},
		{"bad dedup", "webhook: { dedup: sometimes }\n", "webhook.dedup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			os.WriteFile(p, []byte(tc.yaml), 0o600)
			_, err := runMain(t, nil, "serve", "--config", p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("serve error = %v, want one naming %q", err, tc.want)
			}
			// WXKIT_CONFIG names the file when --config is absent.
			_, err = runMain(t, map[string]string{"WXKIT_CONFIG": p}, "serve")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("serve with WXKIT_CONFIG: error = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestDevModeHelloWorld(t *testing.T) {
	db := filepath.Join(t.TempDir(), "dev.db")
	r := mustRunMain(t, nil, "serve", "--listen", "127.0.0.1:0", "--emulator-listen", "127.0.0.1:0", "--dev-db", db)
	if r.emulatorURL == "" || r.gatewayURL == "" {
		t.Fatalf("dev mode ready with gateway %q, emulator %q", r.gatewayURL, r.emulatorURL)
	}
	for _, want := range []string{
		"go run ./cmd/wxkit push --emulator " + r.emulatorURL + " --text hello",
		"go run ./cmd/wxkit push --emulator " + r.emulatorURL + " --click " + DevClickHello,
		"go run ./cmd/wxkit pay orders",
		r.gatewayURL + "/demo/",
		"tap Demo in the chat's menu",
	} {
		if !strings.Contains(r.stdout.String(), want) {
			t.Errorf("dev banner lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stderr.String(), "oauth.secret") {
		t.Errorf("dev mode warns about oauth.secret:\n%s", r.stderr)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"push", "--emulator", r.emulatorURL, "--text", "hello"}, nil, "world\n"},
		{[]string{"push", "--text", "你好"}, map[string]string{"WXKIT_EMULATOR": r.emulatorURL}, "你好\n"},
		{[]string{"push", "--emulator", r.emulatorURL, "--event", "subscribe"}, nil, "欢迎关注 wxkit 演示号! Send hello, or anything else to hear it back.\n"},
	} {
		out, err := runMain(t, tc.env, tc.args...)
		if err != nil {
			t.Fatalf("wxkit %s: %v", strings.Join(tc.args, " "), err)
		}
		if out != tc.want {
			t.Errorf("wxkit %s printed %q, want %q", strings.Join(tc.args, " "), out, tc.want)
		}
	}
	// --json prints the PushResult indented, its XML unescaped.
	out, err := runMain(t, nil, "push", "--emulator", r.emulatorURL, "--text", "hello", "--json")
	if err != nil {
		t.Fatalf("wxkit push --json: %v", err)
	}
	var res emulator.PushResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.UserSees != "world" {
		t.Fatalf("wxkit push --json = %v %s, want a PushResult in which the user sees world", err, out)
	}
	if !strings.Contains(out, "<Content><![CDATA[world]]></Content>") || strings.Contains(out, `\u003c`) || !strings.Contains(out, "\n  \"") {
		t.Errorf("wxkit push --json does not print the reply's XML unescaped, indented:\n%s", out)
	}
	// A push the server cannot answer exits non-zero.
	_, err = runMain(t, nil, "push", "--emulator", r.emulatorURL, "--app", "wx1111111111111111", "--text", "x")
	if err == nil {
		t.Errorf("push to an unknown app: no error")
	}
	var ee *exitError
	if _, err := runMain(t, nil, "push", "--emulator", r.emulatorURL); err == nil || errors.As(err, &ee) {
		t.Errorf("push without a message: %v, want a usage error", err)
	}
}
