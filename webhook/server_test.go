package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
	"github.com/wxkit/wxkit/wxcrypto"
)

// TestModesCorpus sends every corpus message in every mode a server accepts
// and checks that the Handler received exactly the parsed message and that
// the reply comes back readable (decrypted and verified when encrypted).
func TestModesCorpus(t *testing.T) {
	msgs := corpusMessages(t)
	for _, tc := range []struct {
		name       string
		serverMode webhook.Mode
		withKey    bool
		reqMode    webhook.Mode
	}{
		{"plain server, plain push", webhook.ModePlain, false, webhook.ModePlain},
		{"compat server, compat push", webhook.ModeCompat, true, webhook.ModeCompat},
		{"compat server, plain push", webhook.ModeCompat, true, webhook.ModePlain},
		{"safe server, safe push", webhook.ModeSafe, true, webhook.ModeSafe},
		{"plain server with key, safe push", webhook.ModePlain, true, webhook.ModeSafe},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, xml := range msgs {
				t.Run(name, func(t *testing.T) {
					var got *message.Message
					rec := new(recorder)
					logger, logs := newLogger()
					s := &webhook.Server{
						Token: testToken, AppID: testAppID, Mode: tc.serverMode,
						Dedup: new(webhook.MemoryDedup), Recorder: rec, Logger: logger,
						Handler: webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
							got = m
							return echo(ctx, m)
						}),
					}
					if tc.withKey {
						s.EncodingAESKey = testAESKey
					}
					req := webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, tc.reqMode, nil)
					w := serve(s, req)
					if w.Code != 200 {
						t.Fatalf("status %d, body %q, log %s", w.Code, w.Body, logs)
					}
					want := mustParse(t, xml)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("handler message (-want +got):\n%s", diff)
					}
					reply, err := webhooktest.ParseReply(testToken, testAESKey, testAppID, w.Body.Bytes())
					if err != nil {
						t.Fatalf("ParseReply: %v (body %q)", err, w.Body)
					}
					encrypted := bytes.Contains(w.Body.Bytes(), []byte("<Encrypt>"))
					if encrypted != (tc.reqMode != webhook.ModePlain) {
						t.Errorf("reply encrypted = %v for a %s push", encrypted, tc.reqMode)
					}
					if diff := cmp.Diff(&message.Text{Content: "echo " + string(want.MsgType) + " " + want.Content}, reply.Reply); diff != "" {
						t.Errorf("reply (-want +got):\n%s", diff)
					}
					if reply.ToUserName != want.FromUserName || reply.FromUserName != want.ToUserName {
						t.Errorf("reply addressed %q→%q, want %q→%q", reply.FromUserName, reply.ToUserName, want.ToUserName, want.FromUserName)
					}
					if rec.count() != 1 {
						t.Fatalf("recorded %d messages, want 1", rec.count())
					}
					plain, err := message.ParseReply([]byte(rec.replies[0]))
					if err != nil {
						t.Fatalf("recorded reply: %v", err)
					}
					if diff := cmp.Diff(reply, plain); diff != "" {
						t.Errorf("recorded reply differs from the written one (-written +recorded):\n%s", diff)
					}
				})
			}
		})
	}
}

// TestReplyTypes checks that every passive reply type is rendered, and
// that a nil reply, a handler error and an unrenderable reply all answer
// "success".
func TestReplyTypes(t *testing.T) {
	xml := []byte(`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>42</MsgId></xml>`)
	for _, tc := range []struct {
		name    string
		reply   message.Reply
		err     error
		success bool
		logged  string
	}{
		{name: "text", reply: &message.Text{Content: "a ]]> b"}},
		{name: "image", reply: &message.Image{MediaID: "m1"}},
		{name: "voice", reply: &message.Voice{MediaID: "m2"}},
		{name: "video", reply: &message.Video{MediaID: "m3", Title: "t", Description: "d"}},
		{name: "music", reply: &message.Music{Title: "t", Description: "d", MusicURL: "http://a", HQMusicURL: "http://b", ThumbMediaID: "th"}},
		{name: "news", reply: &message.News{Articles: []message.Article{{Title: "t", Description: "d", PicURL: "http://p", URL: "http://u"}}}},
		{name: "transfer", reply: &message.TransferCustomerService{KfAccount: "kf@test"}},
		{name: "nil", success: true},
		{name: "error", err: errors.New("boom"), success: true, logged: "handler failed"},
		{name: "empty news", reply: &message.News{}, success: true, logged: "rendering reply failed"},
	} {
		for _, mode := range []webhook.Mode{webhook.ModePlain, webhook.ModeSafe} {
			t.Run(tc.name+"/"+string(mode), func(t *testing.T) {
				logger, logs := newLogger()
				s := &webhook.Server{
					Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Mode: webhook.ModeCompat, Logger: logger,
					Handler: webhook.HandlerFunc(func(context.Context, *message.Message) (message.Reply, error) { return tc.reply, tc.err }),
				}
				w := serve(s, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, mode, nil))
				if w.Code != 200 {
					t.Fatalf("status %d", w.Code)
				}
				got, err := webhooktest.ParseReply(testToken, testAESKey, testAppID, w.Body.Bytes())
				if tc.success {
					if !errors.Is(err, webhooktest.ErrSuccess) || w.Body.String() != "success" {
						t.Errorf("body %q (%v), want success", w.Body, err)
					}
					if tc.logged != "" && !strings.Contains(logs.String(), tc.logged) {
						t.Errorf("log lacks %q: %s", tc.logged, logs)
					}
					return
				}
				if err != nil {
					t.Fatalf("ParseReply: %v", err)
				}
				if diff := cmp.Diff(tc.reply, got.Reply); diff != "" {
					t.Errorf("reply (-want +got):\n%s", diff)
				}
				if got.ToUserName != "oUser" || got.FromUserName != "gh_1" {
					t.Errorf("addressed %q→%q", got.FromUserName, got.ToUserName)
				}
			})
		}
	}
}

// TestEncryptedReplyFresh checks that the encrypted reply envelope carries
// a fresh timestamp and nonce and a valid msg_signature.
func TestEncryptedReplyFresh(t *testing.T) {
	xml := corpusMessages(t)["text"]
	now := time.Unix(1_800_000_000, 0)
	s := &webhook.Server{
		Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey,
		Handler: webhook.HandlerFunc(echo), Now: func() time.Time { return now },
	}
	bodies := map[string]bool{}
	for range 3 {
		w := serve(s, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, &webhooktest.RequestOptions{Timestamp: now.Unix()}))
		env, err := message.ParseEnvelope(w.Body.Bytes())
		if err != nil {
			t.Fatalf("ParseEnvelope: %v (%q)", err, w.Body)
		}
		if env.TimeStamp != "1800000000" {
			t.Errorf("TimeStamp %q, want the Server's clock 1800000000", env.TimeStamp)
		}
		if len(env.Nonce) != 10 || strings.Trim(env.Nonce, "0123456789") != "" {
			t.Errorf("Nonce %q, want 10 digits", env.Nonce)
		}
		if err := wxcrypto.CheckMsgSignature(env.MsgSignature, testToken, env.TimeStamp, env.Nonce, env.Encrypt); err != nil {
			t.Errorf("msg_signature: %v", err)
		}
		bodies[env.Encrypt] = true
	}
	if len(bodies) != 3 {
		t.Errorf("%d distinct ciphertexts for 3 replies, want 3 (fresh random)", len(bodies))
	}
}

// TestRejections sends bad input of every kind: the status is as
// documented, the handler does not run, nothing is recorded, and exactly one
// warn line names the reason without any secret or body.
func TestRejections(t *testing.T) {
	xml := []byte(`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[Confidential-Body-Text]]></Content><MsgId>42</MsgId></xml>`)
	plainReq := func() *http.Request { return webhooktest.NewSignedRequest(testToken, xml, nil) }
	safeReq := func() *http.Request {
		return webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, nil)
	}
	withQuery := func(r *http.Request, edit func(q map[string]string)) *http.Request {
		vals := r.URL.Query()
		q := map[string]string{}
		for k := range vals {
			q[k] = vals.Get(k)
		}
		edit(q)
		var sb strings.Builder
		for k, v := range q {
			if sb.Len() > 0 {
				sb.WriteByte('&')
			}
			sb.WriteString(k + "=" + urlQueryEscape(v))
		}
		r.URL.RawQuery = sb.String()
		return r
	}
	withBody := func(r *http.Request, body string) *http.Request {
		nr := httptest.NewRequest(r.Method, r.URL.String(), strings.NewReader(body))
		return nr
	}
	// A safe-mode request whose Encrypt is signed correctly but was
	// encrypted for another AppID or is not valid ciphertext.
	signedEnvelope := func(enc string) *http.Request {
		ts := time.Now().Unix()
		return webhooktest.NewEnvelopeRequest(testToken, "<xml><Encrypt><![CDATA["+enc+"]]></Encrypt></xml>", enc,
			strconv.FormatInt(ts, 10), "12345", nil)
	}
	otherApp, err := wxcrypto.NewCipher(testAESKey, "wxffffffffffffffff")
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := otherApp.Encrypt(xml)
	ours, _ := wxcrypto.NewCipher(testAESKey, testAppID)
	garbageXML, _ := ours.Encrypt([]byte("<xml><unclosed></xml>"))

	safe := cfg{token: testToken, appID: testAppID, key: testAESKey, mode: webhook.ModeSafe}
	compat := cfg{token: testToken, appID: testAppID, key: testAESKey, mode: webhook.ModeCompat}
	plain := cfg{token: testToken}

	for _, tc := range []struct {
		name   string
		server cfg
		req    *http.Request
		status int
		reason string
	}{
		{"PUT", plain, httptest.NewRequest(http.MethodPut, "/wx", strings.NewReader("x")), 405, "method not allowed"},
		{"HEAD", plain, httptest.NewRequest(http.MethodHead, "/wx", nil), 405, "method not allowed"},
		{"no signature", plain, withQuery(plainReq(), func(q map[string]string) { delete(q, "signature") }), 400, "missing signature"},
		{"no timestamp", plain, withQuery(plainReq(), func(q map[string]string) { delete(q, "timestamp") }), 400, "timestamp"},
		{"timestamp not a number", plain, withQuery(plainReq(), func(q map[string]string) { q["timestamp"] = "12a" }), 400, "timestamp"},
		{"no nonce", plain, withQuery(plainReq(), func(q map[string]string) { delete(q, "nonce") }), 400, "missing nonce"},
		{"bad escape in query", plain, func() *http.Request { r := plainReq(); r.URL.RawQuery = "nonce=%zz&" + r.URL.RawQuery; return r }(), 400, "malformed query"},
		{"wrong signature", plain, withQuery(plainReq(), func(q map[string]string) { q["signature"] = strings.Repeat("0", 40) }), 403, "bad signature"},
		{"wrong token", plain, webhooktest.NewSignedRequest("not-the-token", xml, nil), 403, "bad signature"},
		{"stale timestamp", plain, webhooktest.NewSignedRequest(testToken, xml, &webhooktest.RequestOptions{Timestamp: time.Now().Add(-6 * time.Minute).Unix()}), 403, "timestamp outside window"},
		{"future timestamp", plain, webhooktest.NewSignedRequest(testToken, xml, &webhooktest.RequestOptions{Timestamp: time.Now().Add(6 * time.Minute).Unix()}), 403, "timestamp outside window"},
		{"empty body", plain, webhooktest.NewSignedRequest(testToken, nil, nil), 400, "empty body"},
		{"malformed XML", plain, webhooktest.NewSignedRequest(testToken, []byte("<xml><a>"), nil), 400, "malformed message XML"},
		{"not XML", plain, webhooktest.NewSignedRequest(testToken, []byte(`{"json":true}`), nil), 400, "malformed message XML"},
		{"body too large (declared)", cfg{token: testToken, maxBody: 64}, plainReq(), 413, "body too large"},
		{"body too large (streamed)", cfg{token: testToken, maxBody: 64}, func() *http.Request { r := plainReq(); r.ContentLength = -1; return r }(), 413, "body too large"},
		{"unknown encrypt_type", safe, withQuery(safeReq(), func(q map[string]string) { q["encrypt_type"] = "rsa" }), 400, "unsupported encrypt_type"},
		{"encrypted push, no key", plain, safeReq(), 400, "no EncodingAESKey"},
		{"plain push to safe server", safe, plainReq(), 403, "unencrypted push refused"},
		{"no msg_signature", safe, withQuery(safeReq(), func(q map[string]string) { delete(q, "msg_signature") }), 400, "missing msg_signature"},
		{"wrong msg_signature", safe, withQuery(safeReq(), func(q map[string]string) { q["msg_signature"] = strings.Repeat("a", 40) }), 403, "bad msg_signature"},
		{"msg_signature of another body", compat, withBody(safeReq(), string(webhooktest.EncryptedBody(xml, foreign, webhook.ModeSafe))), 403, "bad msg_signature"},
		{"stale encrypted", safe, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, &webhooktest.RequestOptions{Timestamp: 1409735669}), 403, "timestamp outside window"},
		{"no Encrypt element", safe, withBody(safeReq(), "<xml><ToUserName>gh</ToUserName></xml>"), 400, "missing Encrypt"},
		{"Encrypt only inside CDATA", compat, withBody(safeReq(), "<xml><Content><![CDATA[<Encrypt>abc</Encrypt>]]></Content></xml>"), 400, "missing Encrypt"},
		{"foreign AppID", safe, signedEnvelope(foreign), 403, "AppID"},
		{"undecryptable", safe, signedEnvelope("bm90IGNpcGhlcnRleHQ="), 400, "undecryptable"},
		{"decrypts to malformed XML", safe, signedEnvelope(garbageXML), 400, "malformed message XML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logger, logs := newLogger()
			rec := new(recorder)
			called := false
			srv := tc.server.server()
			srv.Logger, srv.Recorder = logger, rec
			srv.Dedup = new(webhook.MemoryDedup)
			srv.Handler = webhook.HandlerFunc(func(context.Context, *message.Message) (message.Reply, error) {
				called = true
				return nil, nil
			})
			w := serve(srv, tc.req)
			if w.Code != tc.status {
				t.Errorf("status %d, want %d (log %s)", w.Code, tc.status, logs)
			}
			if tc.status == 405 && w.Header().Get("Allow") != "GET, POST" {
				t.Errorf("Allow %q, want %q", w.Header().Get("Allow"), "GET, POST")
			}
			if called {
				t.Error("handler ran")
			}
			if rec.count() != 0 {
				t.Errorf("%d messages recorded", rec.count())
			}
			lines := logs.lines()
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1:\n%s", len(lines), logs)
			}
			if !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], tc.reason) {
				t.Errorf("log line %q: want level WARN and reason containing %q", lines[0], tc.reason)
			}
			for _, secret := range []string{testToken, testAESKey, "Confidential-Body-Text", tc.req.URL.Query().Get("signature"), tc.req.URL.Query().Get("msg_signature")} {
				if secret != "" && strings.Contains(lines[0], secret) {
					t.Errorf("log line leaks %q: %s", secret, lines[0])
				}
			}
		})
	}
}

// TestConfig checks that an invalid configuration is reported by Init
// without secrets and answered 500.
func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    cfg
	}{
		{"no token", cfg{}},
		{"bad key", cfg{token: testToken, appID: testAppID, key: "short-" + testToken}},
		{"key without AppID", cfg{token: testToken, key: testAESKey}},
		{"safe without key", cfg{token: testToken, mode: webhook.ModeSafe}},
		{"unknown mode", cfg{token: testToken, mode: "secure"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.c.server()
			err := s.Init()
			if !errors.Is(err, webhook.ErrConfig) {
				t.Fatalf("Init = %v, want ErrConfig", err)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), testAESKey) {
				t.Errorf("error leaks a secret: %v", err)
			}
			logger, logs := newLogger()
			s = tc.c.server()
			s.Logger = logger
			w := serve(s, webhooktest.NewSignedRequest(testToken, []byte("<xml/>"), nil))
			if w.Code != 500 {
				t.Errorf("status %d, want 500", w.Code)
			}
			if strings.Contains(logs.String(), testToken) {
				t.Errorf("log leaks the token: %s", logs)
			}
		})
	}
}

// TestRecorderFailure: a failing Recorder makes the answer 500 and
// releases the dedup claim, so WeChat's retry runs the handler again and
// is recorded.
func TestRecorderFailure(t *testing.T) {
	xml := corpusMessages(t)["text"]
	rec := &recorder{fail: errors.New("disk full")}
	runs := 0
	logger, logs := newLogger()
	s := &webhook.Server{
		Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Logger: logger,
		Dedup: new(webhook.MemoryDedup), Recorder: rec,
		Handler: webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
			runs++
			return echo(ctx, m)
		}),
	}
	req := func() *http.Request {
		return webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, nil)
	}
	if w := serve(s, req()); w.Code != 500 {
		t.Fatalf("first delivery: status %d, want 500", w.Code)
	}
	if !strings.Contains(logs.String(), "disk full") {
		t.Errorf("log lacks the recorder error: %s", logs)
	}
	w := serve(s, req())
	if w.Code != 200 {
		t.Fatalf("retry: status %d, want 200", w.Code)
	}
	if _, err := webhooktest.ParseReply(testToken, testAESKey, testAppID, w.Body.Bytes()); err != nil {
		t.Errorf("retry reply: %v", err)
	}
	if runs != 2 || rec.count() != 1 {
		t.Errorf("handler ran %d times, recorded %d; want 2 and 1", runs, rec.count())
	}
}

// onceRecorder is a webhook.OnceRecorder whose key was already recorded by
// another delivery with the reply stored.
type onceRecorder struct {
	recorder
	stored []byte
	calls  int
}

func (o *onceRecorder) RecordOnce(_ context.Context, m *message.Message, reply []byte) ([]byte, bool, error) {
	o.calls++
	return o.stored, o.stored != nil, nil
}

// TestOnceRecorderDuplicate: when a OnceRecorder reports that another
// delivery recorded the message first, the Server answers that delivery's
// reply (not its own) and completes the dedup key with it; a first record
// answers the Handler's reply.
func TestOnceRecorderDuplicate(t *testing.T) {
	xml := corpusMessages(t)["text"]
	m := mustParse(t, xml)
	stored, err := message.AppendReply(nil, m.FromUserName, m.ToUserName, 1_700_000_000, &message.Text{Content: "the first delivery's reply"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		stored []byte
		want   string // reply content; "" for success
	}{
		{"recorded elsewhere first", stored, "the first delivery's reply"},
		{"recorded elsewhere as success", []byte{}, ""},
		{"first record", nil, "echo text " + m.Content},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &onceRecorder{stored: tc.stored}
			runs := 0
			s := &webhook.Server{
				Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey,
				Dedup: new(webhook.MemoryDedup), Recorder: rec,
				Handler: webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
					runs++
					return echo(ctx, m)
				}),
			}
			for i := range 2 { // the delivery, then a retry answered from Dedup
				w := serve(s, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, nil))
				if w.Code != 200 {
					t.Fatalf("delivery %d: status %d", i, w.Code)
				}
				r, err := webhooktest.ParseReply(testToken, testAESKey, testAppID, w.Body.Bytes())
				got := ""
				switch {
				case errors.Is(err, webhooktest.ErrSuccess):
				case err != nil:
					t.Fatalf("delivery %d: %v", i, err)
				default:
					if txt, ok := r.Reply.(*message.Text); ok {
						got = txt.Content
					}
				}
				if got != tc.want {
					t.Errorf("delivery %d answered %q, want %q", i, got, tc.want)
				}
			}
			if runs != 1 || rec.calls != 1 || rec.count() != 0 {
				t.Errorf("handler ran %d, RecordOnce %d, Record %d times; want 1, 1, 0", runs, rec.calls, rec.count())
			}
		})
	}
}
