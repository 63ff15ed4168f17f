package token

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fetchLog records ObserveFetches calls.
type fetchLog struct {
	mu   sync.Mutex
	errs []string // "" for success
}

func (l *fetchLog) observe(_ context.Context, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := ""
	if err != nil {
		s = err.Error()
	}
	l.errs = append(l.errs, s)
}

func (l *fetchLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}

// TestObserveFetches: under a CachedSource the observer hears one call per
// upstream fetch (not per Token call), failures included, and an
// invalidation still reaches the wrapped provider's Reject.
func TestObserveFetches(t *testing.T) {
	t.Parallel()
	up := &upstream{}
	log := new(fetchLog)
	fetch := ObserveFetches(up, log.observe)
	if _, ok := fetch.(Rejecter); !ok {
		t.Fatal("ObserveFetches(Rejecter) does not implement Rejecter")
	}
	cs := NewCachedSource(&MemoryStore{}, AccessTokenKey("wxobserve"), fetch)
	ctx := t.Context()

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := cs.Token(ctx); err != nil {
				t.Errorf("Token = %v", err)
			}
		})
	}
	wg.Wait()
	if diff := cmp.Diff([]string{""}, log.get()); diff != "" {
		t.Fatalf("observed after 20 Token calls (-want +got):\n%s", diff)
	}

	tok, _ := cs.Token(ctx)
	if err := cs.Invalidate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	up.fail.Store(true)
	if _, err := cs.Token(ctx); err == nil {
		t.Fatal("Token with the upstream down = nil error")
	}
	up.fail.Store(false)
	if _, err := cs.Token(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"", "upstream down", ""}, log.get()); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	if diff := cmp.Diff([]string{tok.Value}, up.rejected); diff != "" {
		t.Errorf("Reject calls on the wrapped provider (-want +got):\n%s", diff)
	}
}

func TestObserveFetchesShapes(t *testing.T) {
	t.Parallel()
	plain := SourceFunc(func(context.Context) (*Token, error) { return &Token{Value: "v"}, nil })
	if _, ok := ObserveFetches(plain, func(context.Context, error) {}).(Rejecter); ok {
		t.Error("ObserveFetches(non-Rejecter) implements Rejecter")
	}
	if got := ObserveFetches(plain, nil); got == nil {
		t.Error("ObserveFetches(src, nil) = nil")
	}
}
