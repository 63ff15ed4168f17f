package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// upstream is a fake provider that counts fetches and records rejections.
type upstream struct {
	fetches  atomic.Int32
	now      func() time.Time
	lifetime time.Duration
	fail     atomic.Bool
	gate     chan struct{} // if non-nil, fetches wait for it to close
	started  chan struct{} // if non-nil, receives once per fetch start

	mu       sync.Mutex
	rejected []string
}

func (u *upstream) Token(ctx context.Context) (*Token, error) {
	if u.started != nil {
		u.started <- struct{}{}
	}
	if u.gate != nil {
		select {
		case <-u.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	n := u.fetches.Add(1)
	if u.fail.Load() {
		return nil, errors.New("upstream down")
	}
	now := time.Now
	if u.now != nil {
		now = u.now
	}
	life := u.lifetime
	if life == 0 {
		life = 2 * time.Hour
	}
	return &Token{Value: fmt.Sprintf("tok-%d", n), Expiry: now().Add(life)}, nil
}

func (u *upstream) Reject(bad *Token) {
	u.mu.Lock()
	u.rejected = append(u.rejected, bad.Value)
	u.mu.Unlock()
}

// fakeClock is a settable clock.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestOneFetchUnderContention: 100 goroutines over 4 CachedSources (four
// processes) sharing one store, with the fetch held open until all have
// started, make exactly one fetch and all get its token.
func TestOneFetchUnderContention(t *testing.T) {
	t.Parallel()
	store := &MemoryStore{}
	up := &upstream{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	srcs := make([]*CachedSource, 4)
	for i := range srcs {
		srcs[i] = NewCachedSource(store, AccessTokenKey("wxapp"), up, WithPollInterval(time.Millisecond))
	}
	var wg sync.WaitGroup
	got := make([]string, 100)
	for i := range 100 {
		wg.Go(func() {
			tok, err := srcs[i%4].Token(t.Context())
			if err != nil {
				t.Errorf("Token = %v", err)
				return
			}
			got[i] = tok.Value
		})
	}
	<-up.started
	close(up.gate)
	wg.Wait()
	if n := up.fetches.Load(); n != 1 {
		t.Fatalf("100 callers over 4 sources: %d fetches, want 1", n)
	}
	for i, v := range got {
		if v != "tok-1" {
			t.Fatalf("caller %d got %q, want tok-1", i, v)
		}
	}
}

// storeOnly hides MemoryStore's DeleteValue, to test the Get-compare-Delete
// fallback.
type storeOnly struct{ Store }

func TestInvalidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		store func() Store
	}{
		{"ValueDeleter", func() Store { return &MemoryStore{} }},
		{"plain Store", func() Store { return storeOnly{&MemoryStore{}} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.store()
			up := &upstream{}
			key := AccessTokenKey("wxapp")
			cs := NewCachedSource(store, key, up)
			t1, err := cs.Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			// Another process replaced the token meanwhile.
			newer := &Token{Value: "tok-other", Expiry: time.Now().Add(time.Hour)}
			if err := store.Set(t.Context(), key, newer); err != nil {
				t.Fatal(err)
			}
			if err := cs.Invalidate(t.Context(), t1); err != nil {
				t.Fatalf("Invalidate(stale) = %v", err)
			}
			got, err := store.Get(t.Context(), key)
			if err != nil || got.Value != "tok-other" {
				t.Fatalf("after Invalidate of a token no longer stored, store holds %v, %v; want tok-other", got, err)
			}
			if len(up.rejected) != 0 {
				t.Errorf("Reject called with %v, want not called", up.rejected)
			}
			// The local copy of t1 is gone: the next Token reads the store.
			tok, err := cs.Token(t.Context())
			if err != nil || tok.Value != "tok-other" {
				t.Fatalf("Token after Invalidate = %v, %v; want tok-other", tok, err)
			}
			if err := cs.Invalidate(t.Context(), tok); err != nil {
				t.Fatalf("Invalidate(current) = %v", err)
			}
			if _, err := store.Get(t.Context(), key); !errors.Is(err, ErrNotFound) {
				t.Fatalf("after Invalidate(current) Get = %v, want ErrNotFound", err)
			}
			if !slices.Equal(up.rejected, []string{"tok-other"}) {
				t.Errorf("rejected = %v, want [tok-other]", up.rejected)
			}
			// A burst of the same rejection: no more deletes or rejections.
			if err := cs.Invalidate(t.Context(), tok); err != nil {
				t.Fatal(err)
			}
			if len(up.rejected) != 1 {
				t.Errorf("second Invalidate of the same token rejected again: %v", up.rejected)
			}
			tok, err = cs.Token(t.Context())
			if err != nil || tok.Value != "tok-2" || up.fetches.Load() != 2 {
				t.Fatalf("Token after Invalidate = %v, %v with %d fetches; want tok-2, 2 fetches", tok, err, up.fetches.Load())
			}
			if err := cs.Invalidate(t.Context(), nil); err != nil {
				t.Errorf("Invalidate(nil) = %v", err)
			}
		})
	}
}

func TestProactiveRefresh(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	store := &MemoryStore{Now: clk.Now}
	up := &upstream{now: clk.Now, lifetime: 10 * time.Minute}
	cs := NewCachedSource(store, "k", up, WithClock(clk.Now), WithExpiryDelta(3*time.Minute))

	tok, err := cs.Token(t.Context())
	if err != nil || tok.Value != "tok-1" {
		t.Fatalf("Token = %v, %v", tok, err)
	}
	clk.Advance(6 * time.Minute) // 4 min left: still fresh
	if tok, _ := cs.Token(t.Context()); tok.Value != "tok-1" || up.fetches.Load() != 1 {
		t.Fatalf("4 min before expiry: %v after %d fetches, want tok-1 after 1", tok, up.fetches.Load())
	}
	clk.Advance(2 * time.Minute) // 2 min left: inside the delta
	if tok, _ := cs.Token(t.Context()); tok.Value != "tok-2" || up.fetches.Load() != 2 {
		t.Fatalf("2 min before expiry: %v after %d fetches, want tok-2 after 2", tok, up.fetches.Load())
	}

	// A failing proactive refresh serves the old token without error, and is
	// not retried on every call.
	clk.Advance(8 * time.Minute)
	up.fail.Store(true)
	tok, err = cs.Token(t.Context())
	if err != nil || tok.Value != "tok-2" {
		t.Fatalf("failed proactive refresh: Token = %v, %v; want tok-2, nil", tok, err)
	}
	fetches := up.fetches.Load()
	for range 5 {
		cs.Token(t.Context())
	}
	if up.fetches.Load() != fetches {
		t.Errorf("a failed proactive refresh was retried on every call: %d fetches, want %d", up.fetches.Load(), fetches)
	}
	// Past the expiry the failure surfaces.
	clk.Advance(3 * time.Minute)
	if _, err := cs.Token(t.Context()); err == nil || !strings.Contains(err.Error(), "upstream down") {
		t.Fatalf("expired token and failing fetch: Token error = %v, want the fetch error", err)
	}
	up.fail.Store(false)
	if tok, err := cs.Token(t.Context()); err != nil || !tok.validAt(clk.Now()) {
		t.Fatalf("after recovery Token = %v, %v", tok, err)
	}
}

func TestWaitersPollStore(t *testing.T) {
	t.Parallel()
	t.Run("respects ctx", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := &MemoryStore{}
			unlock, err := store.Lock(t.Context(), "k", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			defer unlock(context.Background())
			up := &upstream{}
			cs := NewCachedSource(store, "k", up)
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			start := time.Now()
			_, err = cs.Token(ctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Token while another holder has the lease = %v, want DeadlineExceeded", err)
			}
			if el := time.Since(start); el != time.Second {
				t.Errorf("Token returned after %v, want at the 1s deadline", el)
			}
			if up.fetches.Load() != 0 {
				t.Errorf("fetched %d times while another holder had the lease", up.fetches.Load())
			}
		})
	})
	t.Run("gets the other holder's token", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := &MemoryStore{}
			unlock, _ := store.Lock(t.Context(), "k", time.Minute)
			up := &upstream{}
			cs := NewCachedSource(store, "k", up)
			var got *Token
			var err error
			done := make(chan struct{})
			go func() { got, err = cs.Token(t.Context()); close(done) }()
			time.Sleep(5 * time.Second) // fake time: the waiter polls meanwhile
			synctest.Wait()
			store.Set(t.Context(), "k", &Token{Value: "from-other", Expiry: time.Now().Add(time.Hour)})
			unlock(t.Context())
			<-done
			if err != nil || got.Value != "from-other" || up.fetches.Load() != 0 {
				t.Fatalf("Token = %v, %v after %d fetches; want from-other after 0", got, err, up.fetches.Load())
			}
		})
	})
	t.Run("takes over a dead holder's lease", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := &MemoryStore{}
			store.Lock(t.Context(), "k", 10*time.Second) // never released
			up := &upstream{}
			cs := NewCachedSource(store, "k", up)
			start := time.Now()
			tok, err := cs.Token(t.Context())
			if err != nil || tok.Value != "tok-1" {
				t.Fatalf("Token = %v, %v; want tok-1", tok, err)
			}
			if el := time.Since(start); el < 10*time.Second {
				t.Errorf("fetched after %v, before the 10s lease ended", el)
			}
		})
	})
}

type failingStore struct{ MemoryStore }

func (f *failingStore) Get(ctx context.Context, key string) (*Token, error) {
	return nil, errors.New("store unreachable")
}

func TestStoreErrorSurfaces(t *testing.T) {
	t.Parallel()
	up := &upstream{}
	cs := NewCachedSource(&failingStore{}, "k", up)
	_, err := cs.Token(t.Context())
	if err == nil || !strings.Contains(err.Error(), "store unreachable") {
		t.Fatalf("Token with a failing store = %v, want the store error", err)
	}
	if up.fetches.Load() != 0 {
		t.Errorf("fetched %d times with the store down, want 0 (a fetch would break the other processes' token)", up.fetches.Load())
	}
}

func TestTokenRedaction(t *testing.T) {
	t.Parallel()
	tok := &Token{Value: "SECRETVALUE123456", Expiry: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "token", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %s", tok, tok), b.String()} {
		if strings.Contains(s, "SECRETVALUE123456") {
			t.Errorf("token printed unredacted: %s", s)
		}
		if !strings.Contains(s, "SECR***") {
			t.Errorf("redacted form missing in %q", s)
		}
	}
	if (*Token)(nil).Valid() || (&Token{}).Valid() || !(&Token{Value: "x"}).Valid() {
		t.Errorf("Valid: nil, empty must be invalid; no expiry valid")
	}
	if (&Token{Value: "x", Expiry: time.Now().Add(-time.Second)}).Valid() {
		t.Errorf("expired token reported valid")
	}
	if got := AccessTokenKey("wxa"); got != "wxkit:access_token:wxa" || JSAPITicketKey("wxa") != "wxkit:jsapi_ticket:wxa" || Key(KindJSAPITicket, "wxa") != JSAPITicketKey("wxa") {
		t.Errorf("keys: %q %q", got, JSAPITicketKey("wxa"))
	}
}

func BenchmarkCachedSourceToken(b *testing.B) {
	cs := NewCachedSource(&MemoryStore{}, AccessTokenKey("wxbench"), &upstream{})
	ctx := context.Background()
	if _, err := cs.Token(ctx); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := cs.Token(ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkCachedSourceTokenStorePath(b *testing.B) {
	cs := NewCachedSource(&MemoryStore{}, AccessTokenKey("wxbench"), &upstream{}, WithLocalTTL(0))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cs.Token(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// gatedGetStore holds the first Get after it has read the store, until
// released: it reproduces a load that read a token just before another
// caller invalidated it.
type gatedGetStore struct {
	Store
	gated   atomic.Bool
	reached chan struct{}
	release chan struct{}
}

func (s *gatedGetStore) Get(ctx context.Context, key string) (*Token, error) {
	t, err := s.Store.Get(ctx, key)
	if s.gated.CompareAndSwap(false, true) {
		close(s.reached)
		select {
		case <-s.release:
		case <-ctx.Done():
		}
	}
	return t, err
}

// TestInvalidateRacingLoad: a load that read the bad token from the store
// before Invalidate ran must neither cache it again nor hand it to callers
// that come after the Invalidate (they would get 40001 on their retry).
func TestInvalidateRacingLoad(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // a regression hangs: fail instead
	defer cancel()
	mem := &MemoryStore{}
	bad := &Token{Value: "tok-bad", Expiry: time.Now().Add(time.Hour)}
	if err := mem.Set(ctx, "k", bad); err != nil {
		t.Fatal(err)
	}
	st := &gatedGetStore{Store: mem, reached: make(chan struct{}), release: make(chan struct{})}
	up := &upstream{}
	c := NewCachedSource(st, "k", up)

	first := make(chan *Token, 1)
	go func() {
		tok, err := c.Token(ctx)
		if err != nil {
			t.Errorf("Token (racing load) = %v", err)
		}
		first <- tok
	}()
	<-st.reached // the load holds "tok-bad", read before the invalidation

	if err := c.Invalidate(ctx, bad); err != nil {
		t.Fatalf("Invalidate = %v", err)
	}
	after, err := c.Token(ctx) // the caller's retry
	if err != nil {
		t.Fatalf("Token after Invalidate = %v", err)
	}
	if after.Value == bad.Value {
		t.Fatalf("Token after Invalidate = %q: the rejected token again", after.Value)
	}
	close(st.release)
	if tok := <-first; tok != nil && tok.Value == bad.Value {
		t.Errorf("the racing load returned the rejected token %q", tok.Value)
	}
	for range 3 {
		tok, err := c.Token(ctx)
		if err != nil || tok.Value == bad.Value {
			t.Fatalf("Token later = %v, %v: the rejected token came back", tok, err)
		}
	}
	if got := up.fetches.Load(); got < 1 || got > 2 {
		t.Errorf("fetches = %d, want 1 (or 2 when the racing load fetched too)", got)
	}
}
