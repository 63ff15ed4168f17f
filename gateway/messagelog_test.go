package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/memory"
)

// flakyLog is a store.MessageLog over memory.Store that fails while down
// is set and blocks while gate is non-nil.
type flakyLog struct {
	memory.Store
	down    atomic.Bool
	calls   atomic.Int32
	mu      sync.Mutex
	gate    chan struct{}
	batches []int
}

func (f *flakyLog) AppendMessages(ctx context.Context, msgs []*store.LoggedMessage) error {
	f.calls.Add(1)
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.down.Load() {
		return errors.New("connection refused")
	}
	f.mu.Lock()
	f.batches = append(f.batches, len(msgs))
	f.mu.Unlock()
	return f.Store.AppendMessages(ctx, msgs)
}

func testMessage(t *testing.T, i int) *message.Message {
	t.Helper()
	m, err := message.Parse([]byte(fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_a]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>`+
		`<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi %d]]></Content><MsgId>%d</MsgId></xml>`, i, 5000+i)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func count(t *testing.T, s store.MessageLog) int {
	t.Helper()
	n, err := s.CountMessages(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMessageLogDurableWritesBeforeReturning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &flakyLog{}
		l := newMessageLog(s, LogDurable, 0, slog.New(slog.DiscardHandler), time.Now, logHooks{})
		defer l.Close(context.Background())
		rec := l.recorder("wx_app")
		for i := range 3 {
			m := testMessage(t, i)
			reply := []byte("<xml>reply</xml>")
			if err := rec.Record(t.Context(), m, reply); err != nil {
				t.Fatalf("Record = %v", err)
			}
			reply[1] = 'X' // the caller reuses its buffer: the log kept a copy
			if n := count(t, s); n != i+1 {
				t.Fatalf("after durable Record #%d the log holds %d rows, want %d", i, n, i+1)
			}
		}
		got, _ := s.Messages(t.Context(), store.MessageQuery{Limit: 1})
		if string(got[0].Reply) != "<xml>reply</xml>" || got[0].DedupKey != "msg:5002" || got[0].AppID != "wx_app" || string(got[0].Request) == "" {
			t.Errorf("logged row = %+v, want app wx_app, key msg:5002, the request and an unaltered reply", got[0])
		}
	})
}

func TestMessageLogAsyncBatchesAndFlushesOnClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &flakyLog{}
		l := newMessageLog(s, LogAsync, 0, slog.New(slog.DiscardHandler), time.Now, logHooks{})
		rec := l.recorder("wx_app")
		for i := range 100 {
			if err := rec.Record(t.Context(), testMessage(t, i), nil); err != nil {
				t.Fatalf("Record = %v", err)
			}
		}
		if err := l.Close(context.Background()); err != nil {
			t.Fatalf("Close = %v", err)
		}
		if n := count(t, s); n != 100 {
			t.Fatalf("after Close the log holds %d rows, want 100", n)
		}
		if len(s.batches) > 2 {
			t.Errorf("100 rows queued at once were written in %d batches %v, want at most 2", len(s.batches), s.batches)
		}
		if err := rec.Record(t.Context(), testMessage(t, 1000), nil); err == nil {
			t.Error("Record after Close = nil, want an error")
		}
	})
}

func TestMessageLogOutageKeepsRowsAndAnswers(t *testing.T) {
	for _, mode := range []string{LogDurable, LogAsync} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &flakyLog{}
				s.down.Store(true)
				var storeErrs atomic.Int32
				l := newMessageLog(s, mode, 0, slog.New(slog.DiscardHandler), time.Now,
					logHooks{storeError: func(string) { storeErrs.Add(1) }})
				defer l.Close(context.Background())
				rec := l.recorder("wx_app")
				start := time.Now()
				for i := range 20 {
					if err := rec.Record(t.Context(), testMessage(t, i), nil); err != nil {
						t.Fatalf("Record during the outage = %v, want nil (the push is answered)", err)
					}
				}
				if d := time.Since(start); d >= durableWait {
					t.Errorf("20 Records during the outage took %v, want less than one durable wait (%v)", d, durableWait)
				}
				time.Sleep(10 * time.Second) // the outage lasts 10 s
				if n := count(t, s); n != 0 {
					t.Fatalf("during the outage the log holds %d rows", n)
				}
				s.down.Store(false)
				time.Sleep(logRetryMax + time.Second)
				synctest.Wait()
				if n := count(t, s); n != 20 {
					t.Errorf("after the store returned the log holds %d rows, want all 20", n)
				}
				if storeErrs.Load() == 0 {
					t.Error("no store error was counted during the outage")
				}
				if w, d := l.stats(); w != 20 || d != 0 {
					t.Errorf("stats() = written %d, dropped %d; want 20, 0", w, d)
				}
			})
		})
	}
}

func TestMessageLogOverflowIsCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &flakyLog{gate: make(chan struct{})}
		var dropped atomic.Int32
		l := newMessageLog(s, LogAsync, 4, slog.New(slog.DiscardHandler), time.Now,
			logHooks{dropped: func(n int) { dropped.Add(int32(n)) }})
		rec := l.recorder("wx_app")
		// The writer takes a batch and blocks in the store; the queue of 4
		// fills; the rest are dropped and counted.
		const n = logMaxBatch + 50
		for i := range n {
			rec.Record(t.Context(), testMessage(t, i), nil)
			synctest.Wait()
		}
		written := 0
		s.mu.Lock()
		close(s.gate)
		s.gate = nil
		s.mu.Unlock()
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		written = count(t, s)
		if d := int(dropped.Load()); d != n-logMaxBatch-4 || d+written != n {
			t.Errorf("written %d + dropped %d, want %d dropped (one batch of %d and a queue of 4 kept) of %d", written, d, n-logMaxBatch-4, logMaxBatch, n)
		}
		if _, d := l.stats(); int(d) != int(dropped.Load()) {
			t.Errorf("stats() dropped = %d, hook counted %d", d, dropped.Load())
		}
	})
}

func TestMessageLogCloseWithStoreDownCountsLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &flakyLog{}
		s.down.Store(true)
		var dropped atomic.Int32
		l := newMessageLog(s, LogAsync, 0, slog.New(slog.DiscardHandler), time.Now,
			logHooks{dropped: func(n int) { dropped.Add(int32(n)) }})
		rec := l.recorder("wx_app")
		for i := range 10 {
			rec.Record(t.Context(), testMessage(t, i), nil)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Fatalf("Close with the store down = %v, want it to give up in time", err)
		}
		if d := dropped.Load(); d != 10 {
			t.Errorf("dropped = %d, want the 10 unwritten rows counted", d)
		}
	})
}
