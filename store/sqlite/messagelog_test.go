package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

func newTestLog(t *testing.T, path string, opts ...MessageLogOption) *MessageLog {
	t.Helper()
	db, err := Open("sqlite://" + path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	l, err := NewMessageLog(t.Context(), db, opts...)
	if err != nil {
		t.Fatalf("NewMessageLog: %v", err)
	}
	t.Cleanup(func() {
		l.Close()
		db.Close()
	})
	return l
}

func textMessage(id int64, content string) *message.Message {
	raw := fmt.Sprintf("<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>"+
		"<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%d</MsgId></xml>", content, id)
	m, err := message.Parse([]byte(raw))
	if err != nil {
		panic(err)
	}
	return m
}

func TestMessageLogDedupStoreConformance(t *testing.T) {
	l := newTestLog(t, filepath.Join(t.TempDir(), "log.db"))
	webhooktest.TestDedupStore(t, func(t *testing.T) webhook.DedupStore { return l.App("wx0123456789abcdef", time.Minute) })
}

func TestMessageLogRecordStoresOnce(t *testing.T) {
	l := newTestLog(t, filepath.Join(t.TempDir(), "log.db"))
	ctx := t.Context()
	app := l.Recorder("wxaaaaaaaaaaaaaaaa")
	m := textMessage(42, "hello")
	reply := []byte("<xml><Content><![CDATA[world]]></Content></xml>")
	if err := app.Record(ctx, m, reply); err != nil {
		t.Fatalf("Record: %v", err)
	}
	// A duplicate delivery is not stored again, even with another reply.
	stored, err := l.Record(ctx, "wxaaaaaaaaaaaaaaaa", m.DedupKey(), m, []byte("other"), false, 0)
	if err != nil || stored {
		t.Fatalf("second Record = %v, %v; want false, nil", stored, err)
	}
	// The same key in another app is another message.
	if stored, err := l.Record(ctx, "wxbbbbbbbbbbbbbbbb", m.DedupKey(), m, nil, false, 0); err != nil || !stored {
		t.Fatalf("Record in another app = %v, %v; want true, nil", stored, err)
	}
	got, err := l.Get(ctx, "wxaaaaaaaaaaaaaaaa", "msg:42")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want := &LoggedMessage{AppID: "wxaaaaaaaaaaaaaaaa", DedupKey: "msg:42", Done: true, FromUser: "oUser", ToUser: "gh_1",
		MsgType: "text", MsgID: 42, CreateTime: 1700000000, Request: m.Raw, Reply: reply, ReceivedAt: got.ReceivedAt}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get mismatch (-want +got):\n%s", diff)
	}
	if n, _ := l.Count(ctx, "wxaaaaaaaaaaaaaaaa"); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
	if n, _ := l.Count(ctx, ""); n != 2 {
		t.Errorf("Count(all) = %d, want 2", n)
	}
}

func TestMessageLogGroupCommit(t *testing.T) {
	l := newTestLog(t, filepath.Join(t.TempDir(), "log.db"))
	ctx := t.Context()
	const n = 64
	start := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range n {
		wg.Go(func() {
			<-start
			m := textMessage(int64(1000+i), "x")
			if stored, err := l.Record(ctx, "wxaaaaaaaaaaaaaaaa", m.DedupKey(), m, []byte("r"), false, 0); err != nil || !stored {
				failed.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d Records failed", failed.Load())
	}
	// Every Record returned after its commit: the rows are all there.
	if c, _ := l.Count(ctx, "wxaaaaaaaaaaaaaaaa"); c != n {
		t.Errorf("Count = %d, want %d", c, n)
	}
	batches, ops := l.Stats()
	if ops != n {
		t.Errorf("Stats ops = %d, want %d", ops, n)
	}
	if batches >= n {
		t.Errorf("Stats batches = %d for %d concurrent records: no group commit", batches, n)
	}
}

func TestMessageLogCloseFlushesAndRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.db")
	l := newTestLog(t, path)
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			m := textMessage(int64(i+1), "x")
			l.Record(ctx, "wxaaaaaaaaaaaaaaaa", m.DedupKey(), m, nil, false, 0)
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	m := textMessage(999, "late")
	if _, err := l.Record(ctx, "wxaaaaaaaaaaaaaaaa", m.DedupKey(), m, nil, false, 0); err != ErrClosed {
		t.Errorf("Record after Close: %v, want ErrClosed", err)
	}
	// A fresh log on the same file sees every row.
	l2 := newTestLog(t, path)
	if c, _ := l2.Count(ctx, ""); c != 20 {
		t.Errorf("Count after reopen = %d, want 20", c)
	}
}

func TestMessageLogTwoProcessesOneOwner(t *testing.T) {
	// Two MessageLogs on one file stand for two gateway processes.
	path := filepath.Join(t.TempDir(), "shared.db")
	a := newTestLog(t, path).App("wxaaaaaaaaaaaaaaaa", time.Minute)
	b := newTestLog(t, path).App("wxaaaaaaaaaaaaaaaa", time.Minute)
	ctx := t.Context()
	for i := range 20 {
		key := fmt.Sprintf("msg:%d", i)
		var wg sync.WaitGroup
		var owned atomic.Int32
		for _, s := range []*AppLog{a, b, a, b} {
			wg.Go(func() {
				c, err := s.Claim(ctx, key, time.Minute)
				if err != nil {
					t.Errorf("Claim: %v", err)
				}
				if c.State == webhook.ClaimOwned {
					owned.Add(1)
				}
			})
		}
		wg.Wait()
		if owned.Load() != 1 {
			t.Fatalf("key %s: %d owners, want 1", key, owned.Load())
		}
	}
}

func TestMessageLogRecordCompletesClaim(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	l := newTestLog(t, filepath.Join(t.TempDir(), "log.db"), WithLogClock(clock))
	app := l.App("wxaaaaaaaaaaaaaaaa", 5*time.Minute)
	ctx := t.Context()
	m := textMessage(7, "hi")
	key := m.DedupKey()

	if c, _ := app.Claim(ctx, key, 10*time.Second); c.State != webhook.ClaimOwned {
		t.Fatalf("Claim = %v, want owned", c.State)
	}
	if err := app.Record(ctx, m, []byte("reply-1")); err != nil {
		t.Fatalf("Record: %v", err)
	}
	if err := app.Complete(ctx, key, []byte("reply-1"), 5*time.Minute); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	c, err := app.Claim(ctx, key, 10*time.Second)
	if err != nil || c.State != webhook.ClaimDone || string(c.Reply) != "reply-1" {
		t.Fatalf("Claim after Record = %v %q %v, want done reply-1", c.State, c.Reply, err)
	}
	if n, _ := l.Count(ctx, ""); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
	// After the dedup TTL the key is free again and the old row is kept.
	advance(6 * time.Minute)
	if c, _ := app.Claim(ctx, key, 10*time.Second); c.State != webhook.ClaimOwned {
		t.Fatalf("Claim after TTL = %v, want owned", c.State)
	}
	if n, _ := l.Count(ctx, ""); n != 2 {
		t.Errorf("Count after TTL = %d, want 2 (archived + new)", n)
	}
	// A pending claim whose holder died is taken over after its lease.
	if c, _ := app.Claim(ctx, key, 10*time.Second); c.State != webhook.ClaimPending {
		t.Fatalf("second Claim = %v, want pending", c.State)
	}
	advance(11 * time.Second)
	if c, _ := app.Claim(ctx, key, 10*time.Second); c.State != webhook.ClaimOwned {
		t.Fatalf("Claim after lease = %v, want owned", c.State)
	}
}

func TestMessageLogCanceledContext(t *testing.T) {
	l := newTestLog(t, filepath.Join(t.TempDir(), "log.db"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	m := textMessage(1, "x")
	if _, err := l.Record(ctx, "wxaaaaaaaaaaaaaaaa", m.DedupKey(), m, nil, false, 0); err == nil {
		t.Errorf("Record with canceled context: no error")
	}
	if n, _ := l.Count(t.Context(), ""); n != 0 {
		t.Errorf("Count = %d, want 0", n)
	}
}

// TestMessageLogDeferred: the one-write view, with two MessageLogs on one
// file standing for two gateway processes.
func TestMessageLogDeferred(t *testing.T) {
	const app = "wxaaaaaaaaaaaaaaaa"
	ctx := t.Context()
	type result struct {
		recorded string
		dup      bool
	}
	recordOnce := func(t *testing.T, a *AppLog, m *message.Message, reply string) result {
		t.Helper()
		r, dup, err := a.RecordOnce(ctx, m, []byte(reply))
		if err != nil {
			t.Fatalf("RecordOnce: %v", err)
		}
		return result{string(r), dup}
	}
	claim := func(t *testing.T, a *AppLog, key string) webhook.Claim {
		t.Helper()
		c, err := a.Claim(ctx, key, 10*time.Second)
		if err != nil {
			t.Fatalf("Claim: %v", err)
		}
		return c
	}
	rows := func(t *testing.T, l *MessageLog) int {
		t.Helper()
		n, err := l.Count(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("a retry elsewhere after the record is answered from it", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "log.db")
		la, lb := newTestLog(t, path), newTestLog(t, path)
		a, b := la.Deferred(app, time.Minute), lb.Deferred(app, time.Minute)
		m := textMessage(1, "hi")
		if c := claim(t, a, m.DedupKey()); c.State != webhook.ClaimOwned {
			t.Fatalf("first Claim = %v, want owned", c.State)
		}
		if n := rows(t, la); n != 0 {
			t.Errorf("Claim wrote %d rows, want 0", n)
		}
		if r := recordOnce(t, a, m, "reply-a"); r != (result{}) {
			t.Errorf("first RecordOnce = %+v, want stored", r)
		}
		if err := a.Complete(ctx, m.DedupKey(), []byte("reply-a"), time.Minute); err != nil {
			t.Fatal(err)
		}
		c := claim(t, b, m.DedupKey())
		if diff := cmp.Diff(webhook.Claim{State: webhook.ClaimDone, Reply: []byte("reply-a")}, c); diff != "" {
			t.Errorf("retry Claim (-want +got):\n%s", diff)
		}
		got, err := la.Get(ctx, app, m.DedupKey())
		if err != nil {
			t.Fatal(err)
		}
		if !got.Done || string(got.Reply) != "reply-a" || string(got.Request) != string(m.Raw) || got.MsgID != 1 || rows(t, la) != 1 {
			t.Errorf("row = %+v (%d rows), want one done row with the request and reply-a", got, rows(t, la))
		}
	})

	t.Run("in the race window the first record wins and both answer it", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "log.db")
		la, lb := newTestLog(t, path), newTestLog(t, path)
		a, b := la.Deferred(app, time.Minute), lb.Deferred(app, time.Minute)
		m := textMessage(2, "hi")
		for _, s := range []*AppLog{a, b} {
			if c := claim(t, s, m.DedupKey()); c.State != webhook.ClaimOwned {
				t.Fatalf("Claim = %v, want owned (both read an absent key)", c.State)
			}
		}
		if r := recordOnce(t, a, m, "reply-a"); r != (result{}) {
			t.Errorf("first RecordOnce = %+v, want stored", r)
		}
		if r := recordOnce(t, b, m, "reply-b"); r != (result{"reply-a", true}) {
			t.Errorf("second RecordOnce = %+v, want dup with reply-a", r)
		}
		if got, err := la.Get(ctx, app, m.DedupKey()); err != nil || string(got.Reply) != "reply-a" || rows(t, la) != 1 {
			t.Errorf("row = %+v, %v (%d rows), want one row with reply-a", got, err, rows(t, la))
		}
	})

	t.Run("a slow delivery writes its pending row and a retry elsewhere waits", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "log.db")
		la, lb := newTestLog(t, path, WithClaimDelay(time.Millisecond)), newTestLog(t, path)
		a, b := la.Deferred(app, time.Minute), lb.Deferred(app, time.Minute)
		m := textMessage(3, "hi")
		if c := claim(t, a, m.DedupKey()); c.State != webhook.ClaimOwned {
			t.Fatalf("first Claim = %v, want owned", c.State)
		}
		// Wait for the pending row (the claim delay is 1 ms).
		for deadline := time.Now().Add(10 * time.Second); claim(t, b, m.DedupKey()).State != webhook.ClaimPending; {
			if time.Now().After(deadline) {
				t.Fatal("no pending row after 10s")
			}
			time.Sleep(time.Millisecond)
		}
		if r := recordOnce(t, a, m, "reply-a"); r != (result{}) {
			t.Errorf("RecordOnce = %+v, want stored (completing the pending row)", r)
		}
		c := claim(t, b, m.DedupKey())
		if diff := cmp.Diff(webhook.Claim{State: webhook.ClaimDone, Reply: []byte("reply-a")}, c); diff != "" || rows(t, la) != 1 {
			t.Errorf("retry Claim (-want +got):\n%s(%d rows)", diff, rows(t, la))
		}
	})

	t.Run("release removes the pending row", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "log.db")
		la, lb := newTestLog(t, path, WithClaimDelay(time.Millisecond)), newTestLog(t, path)
		a, b := la.Deferred(app, time.Minute), lb.Deferred(app, time.Minute)
		m := textMessage(4, "hi")
		claim(t, a, m.DedupKey())
		for deadline := time.Now().Add(10 * time.Second); rows(t, la) != 1; {
			if time.Now().After(deadline) {
				t.Fatal("no pending row after 10s")
			}
			time.Sleep(time.Millisecond)
		}
		if err := a.Release(ctx, m.DedupKey()); err != nil {
			t.Fatal(err)
		}
		if c := claim(t, b, m.DedupKey()); c.State != webhook.ClaimOwned || rows(t, la) != 0 {
			t.Errorf("Claim after Release = %v (%d rows), want owned and no row", c.State, rows(t, la))
		}
	})

	t.Run("an expired record frees the key and stays archived", func(t *testing.T) {
		now := time.Unix(1_700_000_000, 0)
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		l := newTestLog(t, filepath.Join(t.TempDir(), "log.db"), WithLogClock(clock))
		a := l.Deferred(app, 5*time.Minute)
		m := textMessage(5, "hi")
		claim(t, a, m.DedupKey())
		recordOnce(t, a, m, "old")
		a.Complete(ctx, m.DedupKey(), []byte("old"), 5*time.Minute)
		mu.Lock()
		now = now.Add(6 * time.Minute)
		mu.Unlock()
		if c := claim(t, a, m.DedupKey()); c.State != webhook.ClaimOwned {
			t.Fatalf("Claim after TTL = %v, want owned", c.State)
		}
		if r := recordOnce(t, a, m, "new"); r != (result{}) {
			t.Errorf("RecordOnce after TTL = %+v, want stored", r)
		}
		got, err := l.Get(ctx, app, m.DedupKey())
		if err != nil || string(got.Reply) != "new" || rows(t, l) != 2 {
			t.Errorf("row = %+v, %v (%d rows), want reply new and 2 rows (archived + new)", got, err, rows(t, l))
		}
	})
}
