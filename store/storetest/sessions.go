package storetest

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/store"
)

// TestSessions checks a store.Sessions: create, read until expiry, the
// user copy, delete, and unknown ids.
func TestSessions(t *testing.T, newStore func(t *testing.T) store.Sessions) {
	t.Helper()
	newSession := func() *store.Session {
		openID := unique("o")
		return &store.Session{AppID: "wx_sess_a", OpenID: openID, Created: base, Expires: base.Add(time.Hour),
			User: &store.User{AppID: "wx_sess_a", OpenID: openID, Nickname: "张三", FirstSeen: base, LastSeen: base}}
	}

	t.Run("CreateGetDelete", func(t *testing.T) {
		s := newStore(t)
		id, sess := unique("sid-"), newSession()
		mustNoErr(t, "CreateSession", s.CreateSession(t.Context(), id, sess))
		got, err := s.Session(t.Context(), id, base.Add(time.Minute))
		mustNoErr(t, "Session", err)
		if diff := cmp.Diff(sess, got, timeMS); diff != "" {
			t.Errorf("Session() mismatch (-created +read):\n%s", diff)
		}
		mustNoErr(t, "DeleteSession", s.DeleteSession(t.Context(), id))
		if _, err := s.Session(t.Context(), id, base.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Session() after DeleteSession error = %v, want store.ErrNotFound", err)
		}
		mustNoErr(t, "DeleteSession(again)", s.DeleteSession(t.Context(), id))
	})

	t.Run("SealedSessionKey", func(t *testing.T) {
		s := newStore(t)
		id, sess := unique("sid-"), newSession()
		sess.SealedSessionKey = []byte{0x00, 0xff, 0x10, 'k', 0x80, 0x00}
		mustNoErr(t, "CreateSession", s.CreateSession(t.Context(), id, sess))
		sess.SealedSessionKey[1] = 0 // the store keeps its own copy
		got, err := s.Session(t.Context(), id, base)
		mustNoErr(t, "Session", err)
		if want := []byte{0x00, 0xff, 0x10, 'k', 0x80, 0x00}; !bytes.Equal(got.SealedSessionKey, want) {
			t.Errorf("Session().SealedSessionKey = %x, want %x as given", got.SealedSessionKey, want)
		}
	})

	t.Run("WithoutUser", func(t *testing.T) {
		s := newStore(t)
		id, sess := unique("sid-"), newSession()
		sess.User = nil
		mustNoErr(t, "CreateSession", s.CreateSession(t.Context(), id, sess))
		got, err := s.Session(t.Context(), id, base)
		mustNoErr(t, "Session", err)
		if diff := cmp.Diff(sess, got, timeMS); diff != "" {
			t.Errorf("Session() mismatch (-created +read):\n%s", diff)
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		s := newStore(t)
		id, sess := unique("sid-"), newSession()
		mustNoErr(t, "CreateSession", s.CreateSession(t.Context(), id, sess))
		if _, err := s.Session(t.Context(), id, sess.Expires.Add(-time.Millisecond)); err != nil {
			t.Errorf("Session() 1 ms before expiry error = %v, want the session", err)
		}
		for _, at := range []time.Time{sess.Expires, sess.Expires.Add(time.Hour)} {
			if _, err := s.Session(t.Context(), id, at); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Session() at %v (expires %v) error = %v, want store.ErrNotFound", at, sess.Expires, err)
			}
		}
	})

	t.Run("UnknownAndSimilarIDs", func(t *testing.T) {
		s := newStore(t)
		id := unique("sid-")
		mustNoErr(t, "CreateSession", s.CreateSession(t.Context(), id, newSession()))
		for _, other := range []string{unique("sid-"), id + "x", id[:len(id)-1]} {
			if _, err := s.Session(t.Context(), other, base); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Session(%q) error = %v, want store.ErrNotFound", other, err)
			}
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateSession(t.Context(), "", newSession()); err == nil {
			t.Error("CreateSession(empty id) error = nil, want an error")
		}
		sess := newSession()
		sess.OpenID = ""
		if err := s.CreateSession(t.Context(), unique("sid-"), sess); err == nil {
			t.Error("CreateSession(no openid) error = nil, want an error")
		}
	})

	t.Run("DeleteSeenEverywhere", func(t *testing.T) {
		// Many concurrent readers while the session is deleted: after
		// DeleteSession returns, no reader finds it.
		s := newStore(t)
		id := unique("sid-")
		mustNoErr(t, "CreateSession", s.CreateSession(t.Context(), id, newSession()))
		mustNoErr(t, "DeleteSession", s.DeleteSession(t.Context(), id))
		var found atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, err := s.Session(t.Context(), id, base); err == nil {
					found.Add(1)
				}
			})
		}
		wg.Wait()
		if n := found.Load(); n != 0 {
			t.Errorf("%d readers found a deleted session", n)
		}
	})
}

// TestOAuthStates checks a store.OAuthStates: single use, expiry,
// duplicates, and 50 concurrent takers of one nonce of whom one wins.
func TestOAuthStates(t *testing.T, newStore func(t *testing.T) store.OAuthStates) {
	t.Helper()
	t.Run("PutTakeOnce", func(t *testing.T) {
		s := newStore(t)
		nonce := unique("n")
		mustNoErr(t, "PutState", s.PutState(t.Context(), nonce, "/orders?id=1", base.Add(10*time.Minute)))
		got, err := s.TakeState(t.Context(), nonce, base.Add(time.Minute))
		mustNoErr(t, "TakeState", err)
		if got != "/orders?id=1" {
			t.Errorf("TakeState() = %q, want %q", got, "/orders?id=1")
		}
		if _, err := s.TakeState(t.Context(), nonce, base.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second TakeState() error = %v, want store.ErrNotFound", err)
		}
	})

	t.Run("EmptyData", func(t *testing.T) {
		s := newStore(t)
		nonce := unique("n")
		mustNoErr(t, "PutState", s.PutState(t.Context(), nonce, "", base.Add(time.Minute)))
		got, err := s.TakeState(t.Context(), nonce, base)
		if err != nil || got != "" {
			t.Errorf("TakeState() = %q, %v; want \"\", nil", got, err)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		s := newStore(t)
		nonce := unique("n")
		expires := base.Add(10 * time.Minute)
		mustNoErr(t, "PutState", s.PutState(t.Context(), nonce, "x", expires))
		if _, err := s.TakeState(t.Context(), nonce, expires); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TakeState() at expiry error = %v, want store.ErrNotFound", err)
		}
		// An expired state stays unusable: a later take finds nothing.
		if _, err := s.TakeState(t.Context(), nonce, base); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TakeState() after an expired take error = %v, want store.ErrNotFound", err)
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.TakeState(t.Context(), unique("n"), base); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TakeState(unknown) error = %v, want store.ErrNotFound", err)
		}
	})

	t.Run("DuplicatePut", func(t *testing.T) {
		s := newStore(t)
		nonce := unique("n")
		mustNoErr(t, "PutState", s.PutState(t.Context(), nonce, "first", base.Add(time.Minute)))
		if err := s.PutState(t.Context(), nonce, "second", base.Add(time.Minute)); err == nil {
			t.Error("PutState(existing nonce) error = nil, want an error")
		}
		got, err := s.TakeState(t.Context(), nonce, base)
		if err != nil || got != "first" {
			t.Errorf("TakeState() = %q, %v; want the first data", got, err)
		}
	})

	t.Run("ConcurrentTakeOneWins", func(t *testing.T) {
		s := newStore(t)
		nonce := unique("n")
		mustNoErr(t, "PutState", s.PutState(t.Context(), nonce, "data", base.Add(time.Minute)))
		const n = 50
		var wins, misses atomic.Int32
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				got, err := s.TakeState(t.Context(), nonce, base)
				switch {
				case err == nil && got == "data":
					wins.Add(1)
				case errors.Is(err, store.ErrNotFound):
					misses.Add(1)
				default:
					t.Errorf("TakeState() = %q, %v", got, err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || misses.Load() != n-1 {
			t.Errorf("%d of %d concurrent takers won and %d missed, want exactly 1 winner", wins.Load(), n, misses.Load())
		}
	})
}
