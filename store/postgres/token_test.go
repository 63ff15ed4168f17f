package postgres

import (
	"errors"
	"testing"
	"time"

	"github.com/wxkit/wxkit/token"
)

// TestTokenStoreClock moves the DB's clock through a token's expiry and a
// lease's end.
func TestTokenStoreClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newMigrated(t, WithClock(clock.Now)).TokenStore()
	ctx := t.Context()

	want := &token.Token{Value: "v1", Expiry: clock.Now().Add(time.Minute)}
	if err := s.Set(ctx, "tok", want); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute - time.Millisecond)
	if got, err := s.Get(ctx, "tok"); err != nil || got.Value != "v1" || !got.Expiry.Equal(want.Expiry) {
		t.Fatalf("Get() 1 ms before expiry = %v, %v; want %v", got, err, want)
	}
	clock.Add(time.Millisecond)
	if _, err := s.Get(ctx, "tok"); !errors.Is(err, token.ErrNotFound) {
		t.Fatalf("Get() at expiry = %v, want token.ErrNotFound", err)
	}
	// Setting a token that has expired on the clock removes the key.
	if err := s.Set(ctx, "tok2", &token.Token{Value: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "tok2", &token.Token{Value: "y", Expiry: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "tok2"); !errors.Is(err, token.ErrNotFound) {
		t.Fatalf("Get() after Set(expired) = %v, want token.ErrNotFound", err)
	}

	first, err := s.Lock(ctx, "lk", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute - time.Millisecond)
	if _, err := s.Lock(ctx, "lk", time.Minute); !errors.Is(err, token.ErrLocked) {
		t.Fatalf("Lock() during the lease = %v, want token.ErrLocked", err)
	}
	clock.Add(time.Millisecond) // the first holder died: its lease has ended
	second, err := s.Lock(ctx, "lk", time.Minute)
	if err != nil {
		t.Fatalf("Lock() after the lease = %v, want it taken over", err)
	}
	if err := first(ctx); err != nil {
		t.Fatalf("stale unlock = %v", err)
	}
	if _, err := s.Lock(ctx, "lk", time.Minute); !errors.Is(err, token.ErrLocked) {
		t.Fatalf("Lock() after a stale unlock = %v, want token.ErrLocked (the new lease holds)", err)
	}
	if err := second(ctx); err != nil {
		t.Fatal(err)
	}
	third, err := s.Lock(ctx, "lk", time.Minute)
	if err != nil {
		t.Fatalf("Lock() after unlock = %v", err)
	}
	_ = third(ctx)
}
