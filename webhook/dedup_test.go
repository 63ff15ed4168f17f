package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

func TestMemoryDedupConformance(t *testing.T) {
	webhooktest.TestDedupStore(t, func(*testing.T) webhook.DedupStore { return new(webhook.MemoryDedup) })
}

func TestMemoryDedupBounded(t *testing.T) {
	d := &webhook.MemoryDedup{MaxEntries: 3}
	ctx := t.Context()
	for i := range 5 {
		if c, _ := d.Claim(ctx, fmt.Sprint("k", i), time.Hour); c.State != webhook.ClaimOwned {
			t.Fatalf("k%d: %v", i, c.State)
		}
	}
	if d.Len() != 3 {
		t.Errorf("Len = %d, want 3", d.Len())
	}
	for i, want := range []webhook.ClaimState{webhook.ClaimOwned, webhook.ClaimPending} {
		key := []string{"k0", "k4"}[i] // k0 was evicted as the oldest, k4 is kept
		if c, _ := d.Claim(ctx, key, time.Hour); c.State != want {
			t.Errorf("%s: %v, want %v", key, c.State, want)
		}
	}
}

func TestMemoryDedupBoundedByBytes(t *testing.T) {
	// Room for about 10 keys with 1 KiB replies.
	d := &webhook.MemoryDedup{MaxBytes: 10 * (1024 + 100)}
	ctx := t.Context()
	reply := make([]byte, 1024)
	for i := range 1000 {
		key := fmt.Sprint("msg:", i)
		if c, _ := d.Claim(ctx, key, time.Hour); c.State != webhook.ClaimOwned {
			t.Fatalf("%s: %v", key, c.State)
		}
		if err := d.Complete(ctx, key, reply, time.Hour); err != nil {
			t.Fatal(err)
		}
		if b := d.Bytes(); b > d.MaxBytes {
			t.Fatalf("after %d keys Bytes = %d, over MaxBytes %d", i+1, b, d.MaxBytes)
		}
	}
	if n := d.Len(); n < 5 || n > 10 {
		t.Errorf("Len = %d, want the newest 5..10 keys within the byte bound", n)
	}
	if c, _ := d.Claim(ctx, "msg:999", time.Hour); c.State != webhook.ClaimDone {
		t.Errorf("the newest key: %v, want done (kept)", c.State)
	}
	if c, _ := d.Claim(ctx, "msg:0", time.Hour); c.State != webhook.ClaimOwned {
		t.Errorf("the oldest key: %v, want owned (dropped)", c.State)
	}
	// Releasing and expiring give the bytes back.
	d2 := &webhook.MemoryDedup{}
	d2.Claim(ctx, "k", time.Hour)
	d2.Release(ctx, "k")
	if b := d2.Bytes(); b != 0 {
		t.Errorf("Bytes after Claim and Release = %d, want 0", b)
	}
}

func TestMemoryDedupRange(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	d := &webhook.MemoryDedup{Now: func() time.Time { return now }}
	ctx := t.Context()
	d.Claim(ctx, "pending", time.Minute)
	d.Claim(ctx, "done", time.Minute)
	d.Complete(ctx, "done", []byte("r"), time.Minute)
	d.Claim(ctx, "short", time.Second)
	now = now.Add(2 * time.Second) // "short" has expired
	var got []string
	d.Range(func(key string, done bool, reply []byte, _ time.Time) bool {
		got = append(got, fmt.Sprintf("%s:%v:%s", key, done, reply))
		return true
	})
	if want := []string{"pending:false:", "done:true:r"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Range = %v, want %v (oldest first, expired skipped)", got, want)
	}
}

func TestMemoryDedupTTL(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	d := &webhook.MemoryDedup{Now: func() time.Time { return now }}
	ctx := t.Context()
	d.Claim(ctx, "k", 5*time.Second)
	for _, step := range []struct {
		advance time.Duration
		want    webhook.ClaimState
	}{
		{4 * time.Second, webhook.ClaimPending},
		{time.Second, webhook.ClaimOwned}, // lease over: taken over
	} {
		now = now.Add(step.advance)
		if c, _ := d.Claim(ctx, "k", 5*time.Second); c.State != step.want {
			t.Errorf("after %v: %v, want %v", step.advance, c.State, step.want)
		}
	}
	d.Complete(ctx, "k", []byte("r"), time.Minute)
	now = now.Add(59 * time.Second)
	if c, _ := d.Claim(ctx, "k", time.Second); c.State != webhook.ClaimDone {
		t.Errorf("done before TTL: %v", c.State)
	}
	now = now.Add(time.Second)
	if c, _ := d.Claim(ctx, "k", time.Second); c.State != webhook.ClaimOwned {
		t.Errorf("done after TTL: %v, want owned", c.State)
	}
}

// pollingDedup hides MemoryDedup's Wait so that the Server polls.
type pollingDedup struct{ d webhook.MemoryDedup }

func (p *pollingDedup) Claim(ctx context.Context, k string, ttl time.Duration) (webhook.Claim, error) {
	return p.d.Claim(ctx, k, ttl)
}
func (p *pollingDedup) Complete(ctx context.Context, k string, r []byte, ttl time.Duration) error {
	return p.d.Complete(ctx, k, r, ttl)
}
func (p *pollingDedup) Release(ctx context.Context, k string) error { return p.d.Release(ctx, k) }

func dedupStores() map[string]func() webhook.DedupStore {
	return map[string]func() webhook.DedupStore{
		"waiter":  func() webhook.DedupStore { return new(webhook.MemoryDedup) },
		"polling": func() webhook.DedupStore { return new(pollingDedup) },
	}
}

// TestDedupSequential delivers the same message three times, as WeChat's
// retries do (fresh timestamp, nonce and ciphertext each time): the handler
// runs once, one message is recorded, and every answer carries the same
// plaintext reply.
func TestDedupSequential(t *testing.T) {
	msgs := corpusMessages(t)
	for _, file := range []string{"text", "event_click", "component_verify_ticket"} {
		for _, mode := range []webhook.Mode{webhook.ModePlain, webhook.ModeSafe} {
			t.Run(file+"/"+string(mode), func(t *testing.T) {
				var runs atomic.Int32
				rec := new(recorder)
				s := &webhook.Server{
					Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Mode: webhook.ModeCompat,
					Dedup: new(webhook.MemoryDedup), Recorder: rec,
					Handler: webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
						n := runs.Add(1)
						return &message.Text{Content: fmt.Sprint("run ", n)}, nil
					}),
				}
				var first []byte
				for i := range 3 {
					w := serve(s, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, msgs[file], mode, nil))
					plain := w.Body.Bytes()
					if mode != webhook.ModePlain {
						var err error
						if plain, err = webhooktest.DecryptReply(testToken, testAESKey, testAppID, w.Body.Bytes()); err != nil {
							t.Fatalf("delivery %d: %v (%q)", i, err, w.Body)
						}
					}
					if i == 0 {
						first = plain
						continue
					}
					if diff := cmp.Diff(string(first), string(plain)); diff != "" {
						t.Errorf("delivery %d reply differs from the first (-first +got):\n%s", i, diff)
					}
				}
				if runs.Load() != 1 || rec.count() != 1 {
					t.Errorf("handler ran %d times, %d recorded; want 1 and 1", runs.Load(), rec.count())
				}
			})
		}
	}
}

// TestDedupTwoTapsInOneSecond: two menu taps of one user in the same
// second (same FromUserName, CreateTime and Event, two EventKeys) are two
// events, each answered by its own handler run; the corpus click repeated
// is still one.
func TestDedupTwoTapsInOneSecond(t *testing.T) {
	click := string(corpusMessages(t)["event_click"])
	m, err := message.Parse([]byte(click))
	if err != nil || m.EventKey == "" {
		t.Fatalf("corpus event_click: %v, EventKey %q", err, m.EventKey)
	}
	other := strings.Replace(click, m.EventKey, m.EventKey+"_OTHER", 1)
	var keys []string
	var mu sync.Mutex
	s := &webhook.Server{
		Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Mode: webhook.ModeSafe,
		Dedup: new(webhook.MemoryDedup),
		Handler: webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
			mu.Lock()
			keys = append(keys, m.EventKey)
			mu.Unlock()
			return &message.Text{Content: m.EventKey}, nil
		}),
	}
	for _, body := range []string{click, other, click} {
		w := serve(s, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, []byte(body), webhook.ModeSafe, nil))
		if w.Code != http.StatusOK {
			t.Fatalf("push answered %d %q", w.Code, w.Body)
		}
	}
	if want := []string{m.EventKey, m.EventKey + "_OTHER"}; !slices.Equal(keys, want) {
		t.Errorf("handler ran for keys %q, want %q", keys, want)
	}
}

// TestDedupConcurrent: retries arrive while the first delivery is still in
// the handler; they wait for it and all answer its reply.
func TestDedupConcurrent(t *testing.T) {
	xml := corpusMessages(t)["text"]
	for name, newStore := range dedupStores() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var runs atomic.Int32
				release := make(chan struct{})
				s := &webhook.Server{
					Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Dedup: newStore(),
					Handler: webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
						runs.Add(1)
						<-release
						return &message.Text{Content: "only once"}, nil
					}),
				}
				const n = 6
				out := make([]*httptest.ResponseRecorder, n)
				var wg sync.WaitGroup
				start := func(i int) {
					req := webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, nil)
					wg.Go(func() { out[i] = serve(s, req) })
				}
				start(0)
				synctest.Wait() // the first delivery is in the handler
				for i := 1; i < n; i++ {
					start(i)
				}
				synctest.Wait() // the retries are waiting
				time.Sleep(time.Second)
				close(release)
				wg.Wait()
				if runs.Load() != 1 {
					t.Errorf("handler ran %d times, want 1", runs.Load())
				}
				for i, w := range out {
					r, err := webhooktest.ParseReply(testToken, testAESKey, testAppID, w.Body.Bytes())
					if err != nil {
						t.Fatalf("delivery %d: %v (%q)", i, err, w.Body)
					}
					if got := r.Reply.(*message.Text).Content; got != "only once" {
						t.Errorf("delivery %d: %q", i, got)
					}
				}
			})
		})
	}
}

// TestDedupRetryWhileFirstMissesDeadline: the first delivery's handler
// outlives the deadline; the waiting retry answers success (the first
// delivery's answer) and the handler still ran once.
func TestDedupRetryWhileFirstMissesDeadline(t *testing.T) {
	xml := corpusMessages(t)["text"]
	for name, newStore := range dedupStores() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var runs atomic.Int32
				late := make(chan message.Reply, 1)
				s := &webhook.Server{
					Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Dedup: newStore(),
					Handler: webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
						runs.Add(1)
						time.Sleep(20 * time.Second)
						return &message.Text{Content: "too late"}, nil
					}),
					LateReply: func(_ context.Context, _ *message.Message, r message.Reply) error { late <- r; return nil },
					Logger:    discardLogger(),
				}
				var first, retry *httptest.ResponseRecorder
				var wg sync.WaitGroup
				wg.Go(func() {
					first = serve(s, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, nil))
				})
				time.Sleep(time.Second)
				wg.Go(func() {
					retry = serve(s, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, nil))
				})
				wg.Wait()
				for name, w := range map[string]*httptest.ResponseRecorder{"first": first, "retry": retry} {
					if w.Code != 200 || w.Body.String() != "success" {
						t.Errorf("%s: %d %q, want success", name, w.Code, w.Body)
					}
				}
				if r := <-late; r.(*message.Text).Content != "too late" {
					t.Errorf("late reply %v", r)
				}
				if runs.Load() != 1 {
					t.Errorf("handler ran %d times, want 1", runs.Load())
				}
			})
		})
	}
}

// failingDedup fails every Claim.
type failingDedup struct{ webhook.MemoryDedup }

func (*failingDedup) Claim(context.Context, string, time.Duration) (webhook.Claim, error) {
	return webhook.Claim{}, fmt.Errorf("store down")
}

func TestDedupStoreDown(t *testing.T) {
	ran := false
	logger, logs := newLogger()
	s := &webhook.Server{
		Token: testToken, Dedup: new(failingDedup), Logger: logger,
		Handler: webhook.HandlerFunc(func(context.Context, *message.Message) (message.Reply, error) { ran = true; return nil, nil }),
	}
	w := serve(s, webhooktest.NewSignedRequest(testToken, corpusMessages(t)["text"], nil))
	if w.Code != http.StatusInternalServerError || ran {
		t.Errorf("status %d, handler ran %v; want 500 and not run", w.Code, ran)
	}
	if n := len(logs.lines()); n != 1 {
		t.Errorf("%d log lines, want 1: %s", n, logs)
	}
}
