package sqlite

import (
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSessionStore(t *testing.T) {
	t.Parallel()
	db := openTemp(t, filepath.Join(t.TempDir(), "sessions.db"))
	s, err := NewSessionStore(t.Context(), db)
	if err != nil {
		t.Fatalf("NewSessionStore = %v", err)
	}
	ctx := t.Context()
	t0 := time.UnixMilli(1_700_000_000_000)
	want := Session{AppID: "wxapp", OpenID: "o1", Created: t0, Expires: t0.Add(time.Hour)}
	if err := s.Create(ctx, "secret-id", want, t0); err != nil {
		t.Fatalf("Create = %v", err)
	}
	got, err := s.Get(ctx, "secret-id", t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("Get = %v", err)
	}
	if d := cmp.Diff(want, *got); d != "" {
		t.Errorf("Get() mismatch (-want +got):\n%s", d)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM wxkit_sessions WHERE id_hash = ?`, "secret-id").Scan(&n); err != nil || n != 0 {
		t.Errorf("the session id is stored in clear (rows %d, err %v)", n, err)
	}
	for _, tc := range []struct {
		name string
		id   string
		at   time.Time
	}{
		{"expired", "secret-id", t0.Add(time.Hour)},
		{"unknown", "other-id", t0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Get(ctx, tc.id, tc.at); !errors.Is(err, ErrSessionNotFound) {
				t.Errorf("Get = %v, want ErrSessionNotFound", err)
			}
		})
	}
	if n, err := s.Sweep(ctx, t0.Add(2*time.Hour)); err != nil || n != 1 {
		t.Errorf("Sweep = %d, %v; want 1, nil", n, err)
	}
	if err := s.Create(ctx, "id2", want, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "id2"); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	if _, err := s.Get(ctx, "id2", t0); !errors.Is(err, ErrSessionNotFound) {
		t.Errorf("Get after Delete = %v, want ErrSessionNotFound", err)
	}
}

func TestOAuthStateStore(t *testing.T) {
	t.Parallel()
	db := openTemp(t, filepath.Join(t.TempDir(), "states.db"))
	s, err := NewOAuthStateStore(t.Context(), db)
	if err != nil {
		t.Fatalf("NewOAuthStateStore = %v", err)
	}
	ctx := t.Context()
	t0 := time.UnixMilli(1_700_000_000_000)
	if err := s.Put(ctx, "n1", "/return", t0.Add(10*time.Minute), t0); err != nil {
		t.Fatalf("Put = %v", err)
	}
	if err := s.Put(ctx, "n1", "/other", t0.Add(10*time.Minute), t0); err == nil {
		t.Errorf("Put of a stored nonce = nil error, want error")
	}
	got, err := s.Consume(ctx, "n1", t0.Add(time.Minute))
	if err != nil || got != "/return" {
		t.Fatalf("Consume = %q, %v; want /return, nil", got, err)
	}
	if _, err := s.Consume(ctx, "n1", t0.Add(time.Minute)); !errors.Is(err, ErrStateNotFound) {
		t.Errorf("second Consume = %v, want ErrStateNotFound", err)
	}
	if err := s.Put(ctx, "n2", "", t0.Add(10*time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Consume(ctx, "n2", t0.Add(10*time.Minute)); !errors.Is(err, ErrStateNotFound) {
		t.Errorf("Consume of an expired nonce = %v, want ErrStateNotFound", err)
	}

	// Concurrent callbacks with one state: exactly one consumes it.
	if err := s.Put(ctx, "n3", "x", t0.Add(10*time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := s.Consume(ctx, "n3", t0); err == nil {
				wins.Add(1)
			} else if !errors.Is(err, ErrStateNotFound) {
				t.Errorf("Consume = %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("concurrent Consume: %d winners, want 1", wins.Load())
	}
}

// Take reports the outcome of Consume as a flag: ok once, then not found.
func TestOAuthStateStoreTake(t *testing.T) {
	t.Parallel()
	db := openTemp(t, filepath.Join(t.TempDir(), "take.db"))
	s, err := NewOAuthStateStore(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	t0 := time.UnixMilli(1_700_000_000_000)
	if err := s.Put(ctx, "n", "/back", t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	if data, ok, err := s.Take(ctx, "n", t0); err != nil || !ok || data != "/back" {
		t.Fatalf("Take = %q, %v, %v; want /back, true, nil", data, ok, err)
	}
	if data, ok, err := s.Take(ctx, "n", t0); err != nil || ok || data != "" {
		t.Errorf("second Take = %q, %v, %v; want \"\", false, nil", data, ok, err)
	}
	if _, ok, err := s.Take(ctx, "unknown", t0); err != nil || ok {
		t.Errorf("Take(unknown) = %v, %v; want false, nil", ok, err)
	}
}
