package webhook_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
	"github.com/wxkit/wxkit/wxcrypto"
)

// countingDedup is a MemoryDedup that counts the calls per key kind ("sig"
// for signed pairs, "msg" for everything else) and keeps the TTL of each
// Complete.
type countingDedup struct {
	d   webhook.MemoryDedup
	mu  sync.Mutex
	ops map[string]int      // "sig claim", "msg complete", ...
	ttl map[string][]string // kind → TTLs of Complete, as strings
}

func kindOf(key string) string {
	if strings.HasPrefix(key, "sig:") {
		return "sig"
	}
	return "msg"
}

func (c *countingDedup) count(kind, op string, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ops == nil {
		c.ops, c.ttl = map[string]int{}, map[string][]string{}
	}
	c.ops[kind+" "+op]++
	if op == "complete" {
		c.ttl[kind] = append(c.ttl[kind], ttl.String())
	}
}

func (c *countingDedup) Claim(ctx context.Context, k string, ttl time.Duration) (webhook.Claim, error) {
	c.count(kindOf(k), "claim", ttl)
	return c.d.Claim(ctx, k, ttl)
}

func (c *countingDedup) Complete(ctx context.Context, k string, r []byte, ttl time.Duration) error {
	c.count(kindOf(k), "complete", ttl)
	return c.d.Complete(ctx, k, r, ttl)
}

func (c *countingDedup) Release(ctx context.Context, k string) error {
	c.count(kindOf(k), "release", 0)
	return c.d.Release(ctx, k)
}

// snapshot returns the counts so far and resets them.
func (c *countingDedup) snapshot() (map[string]int, map[string][]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops, ttl := c.ops, c.ttl
	c.ops, c.ttl = nil, nil
	return ops, ttl
}

// textMsg returns a text message with its own MsgId.
func textMsg(content string, id int64) []byte {
	return (&message.Message{ToUserName: "gh_1", FromUserName: "oUser", CreateTime: 1_700_000_000,
		MsgType: message.MsgTypeText, Content: content, MsgID: id}).AppendXML(nil)
}

// postTo returns a POST of body to target (path and query), as WeChat
// sends it.
func postTo(target string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", "text/xml")
	return r
}

// TestReplayForgedBody: whoever has seen one plaintext push URL cannot POST
// another body under its signature (the same timestamp and nonce, the
// signature in upper case, or another split of the same signed string
// between timestamp and nonce): 403, the handler does not run and nothing
// is recorded. The genuine body again is a retry, answered as before.
func TestReplayForgedBody(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mode  webhook.Mode
		dedup bool
	}{
		{"plain with dedup", webhook.ModePlain, true},
		{"plain without dedup", webhook.ModePlain, false},
		{"compat, plaintext push", webhook.ModeCompat, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var runs atomic.Int32
			rec := new(recorder)
			logger, logs := newLogger()
			s := &webhook.Server{
				Token: testToken, AppID: testAppID, Mode: tc.mode, Recorder: rec, Logger: logger,
				TimestampWindow: webhook.NoTimestampCheck, // for the other split's timestamp
				Handler: webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
					runs.Add(1)
					return echo(ctx, m)
				}),
			}
			if tc.mode != webhook.ModePlain {
				s.EncodingAESKey = testAESKey
			}
			if tc.dedup {
				s.Dedup = new(webhook.MemoryDedup)
			}
			// A nonce that sorts before the timestamp, so that the signed
			// string "<nonce><timestamp><token>" has another split.
			nonce := "12" + webhooktest.Nonce()[:3]
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			genuineBody := textMsg("genuine", 9_000_000_001)
			genuine := webhooktest.NewSignedRequest(testToken, genuineBody, &webhooktest.RequestOptions{Nonce: nonce})
			target := genuine.URL.String()
			sig := genuine.URL.Query().Get("signature")

			w := serve(s, genuine)
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "echo text genuine") {
				t.Fatalf("genuine push = %d %q, want 200 with the echo", w.Code, w.Body)
			}
			firstReply := w.Body.String()

			forged := textMsg("forged", 9_000_000_002)
			otherTS, otherNonce := (nonce + ts)[len(nonce)+1:], (nonce + ts)[:len(nonce)+1]
			if wxcrypto.Signature(testToken, otherTS, otherNonce) != sig {
				t.Fatalf("test setup: (%s, %s) does not share the signature of (%s, %s)", otherTS, otherNonce, ts, nonce)
			}
			for _, f := range []struct {
				name, target string
			}{
				{"same query", target},
				{"signature in upper case", strings.Replace(target, sig, strings.ToUpper(sig), 1)},
				{"another split of the signed string", "/wx?signature=" + sig + "&timestamp=" + otherTS + "&nonce=" + otherNonce},
			} {
				w := serve(s, postTo(f.target, forged))
				if w.Code != http.StatusForbidden {
					t.Errorf("forged body, %s = %d %q, want 403", f.name, w.Code, w.Body)
				}
			}
			if n := strings.Count(logs.String(), "reason=\"timestamp and nonce already used with another body\""); n != 3 {
				t.Errorf("log has %d lines naming the forgery, want 3:\n%s", n, logs)
			}

			w = serve(s, postTo(target, genuineBody))
			if w.Code != http.StatusOK || w.Body.String() != firstReply {
				t.Errorf("retry of the genuine body = %d %q, want 200 %q", w.Code, w.Body, firstReply)
			}
			wantRuns, wantRows := 1, 1
			if !tc.dedup {
				wantRuns, wantRows = 2, 2 // no dedup: the retry runs again, as before
			}
			if int(runs.Load()) != wantRuns || rec.count() != wantRows {
				t.Errorf("handler ran %d times, %d recorded; want %d and %d", runs.Load(), rec.count(), wantRuns, wantRows)
			}
			for _, m := range rec.msgs {
				if m.Content != "genuine" {
					t.Errorf("recorded %q, want only the genuine message", m.Content)
				}
			}
		})
	}
}

// TestReplayStoreCalls: the check costs a plaintext push one Claim and one
// Complete (one Claim for a retry), remembers the pair until its timestamp
// leaves the window (DedupTTL when the window is off), and costs an
// encrypted push nothing.
func TestReplayStoreCalls(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name      string
		mode      webhook.Mode // of the push
		window    time.Duration
		dedupTTL  time.Duration
		ts        int64
		wantFirst map[string]int
		wantRetry map[string]int
		wantTTL   map[string][]string
	}{
		{
			name: "plain, timestamp a minute old", mode: webhook.ModePlain, window: 5 * time.Minute, ts: now.Unix() - 60,
			wantFirst: map[string]int{"sig claim": 1, "sig complete": 1, "msg claim": 1, "msg complete": 1},
			wantRetry: map[string]int{"sig claim": 1, "msg claim": 1},
			wantTTL:   map[string][]string{"sig": {"4m1s"}, "msg": {"5m0s"}},
		},
		{
			name: "plain, timestamp a minute ahead", mode: webhook.ModePlain, window: 5 * time.Minute, ts: now.Unix() + 60,
			wantFirst: map[string]int{"sig claim": 1, "sig complete": 1, "msg claim": 1, "msg complete": 1},
			wantRetry: map[string]int{"sig claim": 1, "msg claim": 1},
			wantTTL:   map[string][]string{"sig": {"6m1s"}, "msg": {"5m0s"}},
		},
		{
			name: "plain, window off", mode: webhook.ModePlain, window: webhook.NoTimestampCheck, dedupTTL: 10 * time.Minute, ts: 1,
			wantFirst: map[string]int{"sig claim": 1, "sig complete": 1, "msg claim": 1, "msg complete": 1},
			wantRetry: map[string]int{"sig claim": 1, "msg claim": 1},
			wantTTL:   map[string][]string{"sig": {"10m0s"}, "msg": {"10m0s"}},
		},
		{
			name: "safe", mode: webhook.ModeSafe, window: 5 * time.Minute, ts: now.Unix(),
			wantFirst: map[string]int{"msg claim": 1, "msg complete": 1},
			wantRetry: map[string]int{"msg claim": 1},
			wantTTL:   map[string][]string{"msg": {"5m0s"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := new(countingDedup)
			s := &webhook.Server{
				Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Mode: webhook.ModeCompat,
				Handler: webhook.HandlerFunc(echo), Dedup: d, DedupTTL: tc.dedupTTL,
				TimestampWindow: tc.window, Now: func() time.Time { return now },
			}
			opts := &webhooktest.RequestOptions{Timestamp: tc.ts}
			body := textMsg("hello", 9_000_000_003)
			req := webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, body, tc.mode, opts)
			target := req.URL.String()
			if w := serve(s, req); w.Code != http.StatusOK {
				t.Fatalf("push = %d %q", w.Code, w.Body)
			}
			ops, ttl := d.snapshot()
			if diff := cmp.Diff(tc.wantFirst, ops); diff != "" {
				t.Errorf("store calls of the first delivery (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantTTL, ttl); diff != "" {
				t.Errorf("TTLs of Complete (-want +got):\n%s", diff)
			}
			retry := webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, body, tc.mode, opts)
			if tc.mode == webhook.ModePlain {
				retry = postTo(target, body) // the same query
			}
			if w := serve(s, retry); w.Code != http.StatusOK {
				t.Fatalf("retry = %d %q", w.Code, w.Body)
			}
			ops, _ = d.snapshot()
			if diff := cmp.Diff(tc.wantRetry, ops); diff != "" {
				t.Errorf("store calls of the retry (-want +got):\n%s", diff)
			}
		})
	}
}
