package postgres

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/token"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// TestSessionStoresDigestOnly checks that the table holds the hex SHA-256
// of the session id and nowhere the id itself.
func TestSessionStoresDigestOnly(t *testing.T) {
	t.Parallel()
	db := newMigrated(t)
	const id = "Zm9vYmFyLXNlc3Npb24taWQtMTIzNDU2Nzg5MA"
	s := &store.Session{AppID: "wxapp", OpenID: "oUser", Created: t0, Expires: t0.Add(time.Hour),
		User: &store.User{AppID: "wxapp", OpenID: "oUser", Nickname: "张三"}}
	if err := db.CreateSession(t.Context(), id, s); err != nil {
		t.Fatal(err)
	}
	var hash, row string
	err := db.Pool().QueryRow(t.Context(), `SELECT id_hash, s::text FROM wxkit_sessions s`).Scan(&hash, &row)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(id))
	if want := hex.EncodeToString(sum[:]); hash != want {
		t.Errorf("id_hash = %q, want hex SHA-256 %q", hash, want)
	}
	if strings.Contains(row, id) {
		t.Errorf("stored row %s holds the session id", row)
	}
	if !strings.Contains(row, "张三") {
		t.Errorf("stored row %s lacks the user copy", row)
	}
	if err := db.CreateSession(t.Context(), id, s); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateSession(existing id) = %v, want store.ErrConflict", err)
	}
}

// TestTakeStateAcrossInstances has 50 callbacks for one nonce reach three
// instances at once: exactly one gets the data.
func TestTakeStateAcrossInstances(t *testing.T) {
	t.Parallel()
	dbs := newShared(t, 3)
	if err := dbs[0].PutState(t.Context(), "nonce-1", "/back", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wins, misses atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			data, err := dbs[i%len(dbs)].TakeState(t.Context(), "nonce-1", t0)
			switch {
			case err == nil && data == "/back":
				wins.Add(1)
			case errors.Is(err, store.ErrNotFound):
				misses.Add(1)
			default:
				t.Errorf("TakeState() = %q, %v", data, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || misses.Load() != n-1 {
		t.Errorf("%d won and %d missed of %d concurrent takers on 3 instances, want 1 winner", wins.Load(), misses.Load(), n)
	}
	if err := dbs[1].PutState(t.Context(), "nonce-2", "", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := dbs[2].PutState(t.Context(), "nonce-2", "", t0.Add(time.Minute)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutState(existing nonce) on another instance = %v, want store.ErrConflict", err)
	}
}

// TestSweep fills every expiring table with rows that have expired at a
// point in time and rows that have not, and sweeps at that time.
func TestSweep(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	db := newMigrated(t, WithClock(clock.Now))
	ctx := t.Context()
	now := clock.Now()
	// Every kind gets rows that expire 1, 2 and 4 s from now. Tokens,
	// leases and dedup keys expire on the DB's clock, sessions and states
	// at their Expires.
	ts, d := db.TokenStore(), db.Dedup()
	for _, ttl := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		key := ttl.String()
		exp := now.Add(ttl)
		if err := db.CreateSession(ctx, "sid-"+key, &store.Session{AppID: "wx", OpenID: "o", Created: now, Expires: exp}); err != nil {
			t.Fatal(err)
		}
		if err := db.PutState(ctx, "n-"+key, "", exp); err != nil {
			t.Fatal(err)
		}
		if err := ts.Set(ctx, key, &token.Token{Value: "v", Expiry: exp}); err != nil {
			t.Fatal(err)
		}
		if _, err := ts.Lock(ctx, key, ttl); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Claim(ctx, key, ttl); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.Set(ctx, "forever", &token.Token{Value: "v"}); err != nil {
		t.Fatal(err)
	}
	// At now+2s: of each kind, the first two have expired, the third not.
	n, err := db.Sweep(ctx, now.Add(2*time.Second))
	if err != nil {
		t.Fatalf("Sweep() = %v", err)
	}
	if n != 5*2 {
		t.Errorf("Sweep() deleted %d rows, want 10 (2 of each of 5 tables)", n)
	}
	for table := range sweepKeys {
		var left int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&left); err != nil {
			t.Fatal(err)
		}
		want := 1
		if table == "wxkit_tokens" {
			want = 2 // and the token without expiry
		}
		if left != want {
			t.Errorf("%s holds %d rows after Sweep, want %d", table, left, want)
		}
	}
}

// TestSessionReadsSweep checks the opportunistic sweep: the SweepEvery-th
// Session read deletes the sessions expired at its now.
func TestSessionReadsSweep(t *testing.T) {
	t.Parallel()
	db := newMigrated(t)
	ctx := t.Context()
	for i, exp := range []time.Time{t0.Add(time.Minute), t0.Add(time.Hour)} {
		s := &store.Session{AppID: "wx", OpenID: "o", Created: t0, Expires: exp}
		if err := db.CreateSession(ctx, "sid-"+string(rune('a'+i)), s); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		var n int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM wxkit_sessions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	later := t0.Add(30 * time.Minute)
	for range SweepEvery - 1 {
		if _, err := db.Session(ctx, "sid-b", later); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 2 {
		t.Fatalf("%d sessions before the sweep, want 2", n)
	}
	if _, err := db.Session(ctx, "sid-b", later); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("%d sessions after %d reads, want 1 (the expired one swept)", n, SweepEvery)
	}
}
