package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/store"
)

// TestSessionIDNotStored checks that wxkit_sessions keys a session by the
// hex SHA-256 of its id and holds the id nowhere.
func TestSessionIDNotStored(t *testing.T) {
	t.Parallel()
	db := openMigrated(t)
	ctx := t.Context()
	const id = "secret-session-id"
	t0 := time.UnixMilli(1_700_000_000_000)
	if err := db.CreateSession(ctx, id, &store.Session{AppID: "wxapp", OpenID: "o1", Created: t0, Expires: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("CreateSession = %v", err)
	}
	var idHash, appID, openID string
	var created, expires int64
	if err := db.QueryRowContext(ctx, `SELECT id_hash, appid, openid, created_at, expires_at FROM wxkit_sessions`).
		Scan(&idHash, &appID, &openID, &created, &expires); err != nil {
		t.Fatal(err)
	}
	// sha256sum of "secret-session-id".
	const wantHash = "8b24f1a166ac8c394bb462b6248124c3f3bc5d61a675d4b4b8052f6494eb9d98"
	got := []any{idHash, appID, openID, created, expires}
	want := []any{wantHash, "wxapp", "o1", int64(1_700_000_000_000), int64(1_700_003_600_000)}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stored row mismatch (-want +got):\n%s", d)
	}
	for _, v := range []string{idHash, appID, openID} {
		if strings.Contains(v, id) {
			t.Errorf("the session id is stored in clear (%q)", v)
		}
	}
}

// TestSweeps checks that every SweepEvery-th CreateSession deletes the
// sessions expired at the new session's Created, and every SweepEvery-th
// PutState the nonces expired by the DB's clock, keeping the live ones;
// the calls in between delete nothing.
func TestSweeps(t *testing.T) {
	t.Parallel()
	t0 := time.UnixMilli(1_700_000_000_000)
	tests := []struct {
		name  string
		table string
		prior uint64 // calls made before the one under test
		seed  func(t *testing.T, db *DB)
		call  func(t *testing.T, db *DB) error
		want  int // rows left
	}{
		{
			name: "sessions: the SweepEvery-th create sweeps", table: "wxkit_sessions", prior: SweepEvery - 1,
			seed: seedSessions(t0),
			call: func(t *testing.T, db *DB) error {
				return db.CreateSession(t.Context(), "new", &store.Session{AppID: "wxapp", OpenID: "o", Created: t0, Expires: t0.Add(time.Hour)})
			},
			want: 2, // live + new
		},
		{
			name: "sessions: other creates do not", table: "wxkit_sessions", prior: 0,
			seed: seedSessions(t0),
			call: func(t *testing.T, db *DB) error {
				return db.CreateSession(t.Context(), "new", &store.Session{AppID: "wxapp", OpenID: "o", Created: t0, Expires: t0.Add(time.Hour)})
			},
			want: 3,
		},
		{
			name: "states: the SweepEvery-th put sweeps", table: "wxkit_oauth_states", prior: SweepEvery - 1,
			seed: seedStates(t0),
			call: func(t *testing.T, db *DB) error { return db.PutState(t.Context(), "new", "", t0.Add(time.Minute)) },
			want: 2,
		},
		{
			name: "states: other puts do not", table: "wxkit_oauth_states", prior: 0,
			seed: seedStates(t0),
			call: func(t *testing.T, db *DB) error { return db.PutState(t.Context(), "new", "", t0.Add(time.Minute)) },
			want: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := openTemp(t, filepath.Join(t.TempDir(), "sweep.db"), WithClock(func() time.Time { return t0 }))
			if _, err := db.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			tt.seed(t, db)
			db.sessionsCreated.Store(tt.prior)
			db.statesPut.Store(tt.prior)
			if err := tt.call(t, db); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM `+tt.table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Errorf("%s holds %d rows, want %d", tt.table, n, tt.want)
			}
		})
	}
}

// seedSessions stores a session expired at t0 and one live after it.
func seedSessions(t0 time.Time) func(t *testing.T, db *DB) {
	return func(t *testing.T, db *DB) {
		t.Helper()
		for id, exp := range map[string]time.Time{"expired": t0, "live": t0.Add(time.Millisecond)} {
			s := &store.Session{AppID: "wxapp", OpenID: "o", Created: t0.Add(-time.Hour), Expires: exp}
			if err := db.CreateSession(t.Context(), id, s); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// seedStates stores a nonce expired at t0 and one live after it.
func seedStates(t0 time.Time) func(t *testing.T, db *DB) {
	return func(t *testing.T, db *DB) {
		t.Helper()
		for nonce, exp := range map[string]time.Time{"expired": t0, "live": t0.Add(time.Millisecond)} {
			if err := db.PutState(t.Context(), nonce, "", exp); err != nil {
				t.Fatal(err)
			}
		}
	}
}
