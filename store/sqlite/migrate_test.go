package sqlite

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/webhook"
)

// released are the migrations of released versions, which never change: a
// rename or a removal here breaks files written by those versions.
var released = []struct {
	version int
	name    string
}{
	{1, "baseline"},
	{2, "session_user"},
	{3, "outbox"},
	{4, "message_log_received_at"},
	{5, "instances"},
}

// statuses is the Migrations() answer when versions up to applied are
// applied at at.
func statuses(applied int, at time.Time) []store.MigrationStatus {
	var out []store.MigrationStatus
	for _, r := range released {
		st := store.MigrationStatus{Version: r.version, Name: r.name}
		if r.version <= applied {
			st.Applied, st.AppliedAt = true, at
		}
		out = append(out, st)
	}
	return out
}

// schemaObjects lists the tables and indexes of db (SQLite's own excepted).
func schemaObjects(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(),
		`SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var wantSchema = []string{
	"index wxkit_dedup_expires",
	"index wxkit_message_log_app_received_at",
	"index wxkit_message_log_received_at",
	"index wxkit_oauth_states_expires",
	"index wxkit_outbox_dead",
	"index wxkit_outbox_due",
	"index wxkit_sessions_expires",
	"index wxkit_users_unionid",
	"table schema_migrations",
	"table wxkit_dedup",
	"table wxkit_instances",
	"table wxkit_message_log",
	"table wxkit_oauth_states",
	"table wxkit_outbox",
	"table wxkit_sessions",
	"table wxkit_token_locks",
	"table wxkit_tokens",
	"table wxkit_users",
}

func TestMigrateFreshFile(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(1_780_000_000_123)
	db := openTemp(t, filepath.Join(t.TempDir(), "fresh.db"), WithClock(func() time.Time { return at }))
	ctx := t.Context()

	before, err := db.Migrations(ctx)
	if err != nil {
		t.Fatalf("Migrations() before Migrate = %v", err)
	}
	if d := cmp.Diff(statuses(0, at), before); d != "" {
		t.Errorf("Migrations() before Migrate mismatch (-want +got):\n%s", d)
	}
	if err := db.SchemaReady(ctx); err == nil || !strings.Contains(err.Error(), "1_baseline") || !strings.Contains(err.Error(), "4_message_log_received_at") {
		t.Errorf("SchemaReady() before Migrate = %v, want an error naming migrations 1 to 4", err)
	}

	applied, err := db.Migrate(ctx)
	if err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	all := statuses(len(released), at)
	if d := cmp.Diff(all, applied); d != "" {
		t.Errorf("Migrate() applied mismatch (-want +got):\n%s", d)
	}
	list, err := db.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(all, list); d != "" {
		t.Errorf("Migrations() after Migrate mismatch (-want +got):\n%s", d)
	}
	if err := db.SchemaReady(ctx); err != nil {
		t.Errorf("SchemaReady() after Migrate = %v, want nil", err)
	}
	if d := cmp.Diff(wantSchema, schemaObjects(t, db)); d != "" {
		t.Errorf("schema after Migrate mismatch (-want +got):\n%s", d)
	}
	if again, err := db.Migrate(ctx); err != nil || len(again) != 0 {
		t.Errorf("second Migrate() = %v, %v; want nothing applied", again, err)
	}
}

// TestConstructorsMigrate checks that each constructor of the stores kept
// for existing callers leaves a current schema on a new file.
func TestConstructorsMigrate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		new  func(t *testing.T, db *DB) error
	}{
		{"NewTokenStore", func(t *testing.T, db *DB) error { _, err := NewTokenStore(db); return err }},
		{"NewDedup", func(t *testing.T, db *DB) error { _, err := NewDedup(db); return err }},
		{"NewUserStore", func(t *testing.T, db *DB) error { _, err := NewUserStore(t.Context(), db); return err }},
		{"NewSessionStore", func(t *testing.T, db *DB) error { _, err := NewSessionStore(t.Context(), db); return err }},
		{"NewOAuthStateStore", func(t *testing.T, db *DB) error { _, err := NewOAuthStateStore(t.Context(), db); return err }},
		{"NewMessageLog", func(t *testing.T, db *DB) error {
			l, err := NewMessageLog(t.Context(), db)
			if err == nil {
				t.Cleanup(func() { l.Close() })
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := openTemp(t, filepath.Join(t.TempDir(), "c.db"))
			if err := tt.new(t, db); err != nil {
				t.Fatalf("%s = %v", tt.name, err)
			}
			if err := db.SchemaReady(t.Context()); err != nil {
				t.Errorf("SchemaReady() after %s = %v, want nil", tt.name, err)
			}
		})
	}
}

// TestMigrateAdoptsUnversionedFile simulates a file written by a release
// whose stores created their own tables (the baseline DDL, no
// schema_migrations) and holding data: Migrate adopts it, upgrades it and
// keeps the data readable through the new interfaces.
func TestMigrateAdoptsUnversionedFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	ctx := t.Context()
	old := openTemp(t, path)
	baseline, err := fs.ReadFile(migrationFiles, "migrations/0001_baseline.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(ctx, string(baseline)); err != nil {
		t.Fatalf("baseline DDL = %v", err)
	}
	t0 := time.UnixMilli(1_700_000_000_000)
	// Rows as the previous release wrote them.
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO wxkit_sessions (id_hash, appid, openid, created_at, expires_at) VALUES (?, 'wxapp', 'o1', ?, ?)`,
			[]any{hashID("old-session"), t0.UnixMilli(), t0.Add(time.Hour).UnixMilli()}},
		{`INSERT INTO wxkit_users (appid, openid, nickname, first_seen, last_seen) VALUES ('wxapp', 'o1', '张三', ?, ?)`,
			[]any{t0.UnixMilli(), t0.UnixMilli()}},
		{`INSERT INTO wxkit_message_log (app_id, dedup_key, state, lease_until, received_at, msg_type, request, reply)
			VALUES ('wxapp', 'msg:1', 2, 0, ?, 'text', x'3c786d6c2f3e', x'')`, []any{t0.UnixMilli()}},
		{`INSERT INTO wxkit_tokens (key, value, expires_at) VALUES ('wechat:access_token:wxapp', 'tok', 0)`, nil},
	} {
		if _, err := old.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	old.Close()

	db := openTemp(t, path)
	if err := db.SchemaReady(ctx); err == nil {
		t.Fatal("SchemaReady() on an unversioned file = nil, want the missing migrations")
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		t.Fatalf("Migrate() on an unversioned file = %v", err)
	}
	if len(applied) != len(released) {
		t.Errorf("Migrate() applied %d migrations, want %d", len(applied), len(released))
	}
	if d := cmp.Diff(wantSchema, schemaObjects(t, db)); d != "" {
		t.Errorf("schema after adoption mismatch (-want +got):\n%s", d)
	}

	sess, err := db.Session(ctx, "old-session", t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("Session(old session) = %v", err)
	}
	wantSess := &store.Session{AppID: "wxapp", OpenID: "o1", Created: t0, Expires: t0.Add(time.Hour)}
	if d := cmp.Diff(wantSess, sess); d != "" {
		t.Errorf("old session mismatch (-want +got):\n%s", d)
	}
	if u, err := db.User(ctx, "wxapp", "o1"); err != nil || u.Nickname != "张三" {
		t.Errorf("User(old user) = %+v, %v; want nickname 张三", u, err)
	}
	msgs, err := db.Messages(ctx, store.MessageQuery{AppID: "wxapp"})
	if err != nil || len(msgs) != 1 || string(msgs[0].Request) != "<xml/>" || !msgs[0].ReceivedAt.Equal(t0) {
		t.Errorf("Messages() of the old log = %+v, %v; want the old row", msgs, err)
	}
	if tok, err := db.TokenStore().Get(ctx, "wechat:access_token:wxapp"); err != nil || tok.Value != "tok" {
		t.Errorf("old token = %+v, %v; want tok", tok, err)
	}
	// What the new migrations add works on the adopted file.
	u := &store.User{AppID: "wxapp", OpenID: "o1", Nickname: "张三"}
	if err := db.CreateSession(ctx, "new-session", &store.Session{AppID: "wxapp", OpenID: "o1", Created: t0,
		Expires: t0.Add(time.Hour), User: u}); err != nil {
		t.Fatalf("CreateSession on the adopted file = %v", err)
	}
	if got, err := db.Session(ctx, "new-session", t0); err != nil || got.User == nil || got.User.Nickname != "张三" {
		t.Errorf("Session(new session) = %+v, %v; want the user copy", got, err)
	}
	j := &store.Job{Kind: "late_reply", Key: "d1", Payload: []byte("{}"), RunAt: t0}
	if err := db.EnqueueJob(ctx, j); err != nil || j.ID == 0 {
		t.Errorf("EnqueueJob on the adopted file = %v (id %d)", err, j.ID)
	}
}

// TestMigrateConcurrentHandles migrates new files through three handles at
// once, as three processes starting together: every call succeeds and each
// version is recorded, and reported applied, once.
func TestMigrateConcurrentHandles(t *testing.T) {
	t.Parallel()
	for round := range 5 {
		path := filepath.Join(t.TempDir(), "race.db")
		dbs := []*DB{openTemp(t, path), openTemp(t, path), openTemp(t, path)}
		reported := map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, db := range dbs {
			wg.Go(func() {
				<-start
				applied, err := db.Migrate(t.Context())
				if err != nil {
					t.Errorf("round %d: Migrate() on handle %d = %v", round, i, err)
				}
				mu.Lock()
				for _, m := range applied {
					reported[m.Version]++
				}
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		rows, err := dbs[0].QueryContext(t.Context(), `SELECT version, count(*) FROM schema_migrations GROUP BY version`)
		if err != nil {
			t.Fatal(err)
		}
		recorded := map[int]int{}
		for rows.Next() {
			var v, n int
			if err := rows.Scan(&v, &n); err != nil {
				t.Fatal(err)
			}
			recorded[v] = n
		}
		rows.Close()
		want := map[int]int{}
		for _, r := range released {
			want[r.version] = 1
		}
		if d := cmp.Diff(want, recorded); d != "" {
			t.Errorf("round %d: schema_migrations rows per version mismatch (-want +got):\n%s", round, d)
		}
		if d := cmp.Diff(want, reported); d != "" {
			t.Errorf("round %d: handles reporting each version applied (-want +got):\n%s", round, d)
		}
	}
}

// TestMigrationsStatus covers a partly migrated database, and a version
// applied by a newer release that this one does not know.
func TestMigrationsStatus(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(1_780_000_000_000)
	db := openTemp(t, filepath.Join(t.TempDir(), "partial.db"), WithClock(func() time.Time { return at }))
	ctx := t.Context()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:2] {
		if _, ran, err := db.applyMigration(ctx, m); err != nil || !ran {
			t.Fatalf("applyMigration(%d) = %v, %v", m.Version, ran, err)
		}
	}
	list, err := db.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(statuses(2, at), list); d != "" {
		t.Errorf("Migrations() with 2 applied mismatch (-want +got):\n%s", d)
	}
	err = db.SchemaReady(ctx)
	if err == nil || !strings.Contains(err.Error(), "3_outbox") || strings.Contains(err.Error(), "2_session_user") {
		t.Errorf("SchemaReady() with 2 applied = %v, want an error naming 3 and 4 only", err)
	}
	// An already applied migration is not run again.
	if _, ran, err := db.applyMigration(ctx, ms[1]); err != nil || ran {
		t.Errorf("applyMigration(applied) = ran %v, %v; want skipped", ran, err)
	}

	applied, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(released)-2 || applied[0].Version != 3 || applied[len(applied)-1].Version != len(released) {
		t.Errorf("Migrate() applied %+v, want versions 3 to %d", applied, len(released))
	}
	newer := len(released) + 1
	if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', ?)`,
		newer, at.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	list, err = db.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := append(statuses(len(released), at), store.MigrationStatus{Version: newer, Name: "?", Applied: true, AppliedAt: at})
	if d := cmp.Diff(want, list); d != "" {
		t.Errorf("Migrations() with a newer version mismatch (-want +got):\n%s", d)
	}
	if err := db.SchemaReady(ctx); err != nil {
		t.Errorf("SchemaReady() with a newer version applied = %v, want nil", err)
	}
}

// TestMigrationIsOneTransaction checks that a migration that fails half way
// leaves neither its changes nor its version behind.
func TestMigrationIsOneTransaction(t *testing.T) {
	t.Parallel()
	db := openMigrated(t)
	ctx := t.Context()
	bad := store.Migration{Version: 99, Name: "bad", SQL: `CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);`}
	if _, _, err := db.applyMigration(ctx, bad); err == nil {
		t.Fatal("applyMigration(failing SQL) = nil error, want an error")
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'half_done'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("table of the failed migration exists (%d, %v), want it rolled back", n, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = 99`).Scan(&n); err != nil || n != 0 {
		t.Errorf("failed migration recorded (%d, %v), want not", n, err)
	}
}

// TestAppendedMessagesReadByMessageLog checks that rows written through
// store.MessageLog are records to the gateway's MessageLog: listed, and a
// delivery of their key is answered as done with the logged reply.
func TestAppendedMessagesReadByMessageLog(t *testing.T) {
	t.Parallel()
	db := openMigrated(t)
	ctx := t.Context()
	t0 := time.UnixMilli(1_780_000_000_000)
	m := &store.LoggedMessage{AppID: "wxapp", DedupKey: "msg:7", FromUser: "o1", ToUser: "gh", MsgType: "text", MsgID: 7,
		CreateTime: t0.Unix(), ReceivedAt: t0, Request: []byte("<xml>req</xml>"), Reply: []byte("<xml>reply</xml>")}
	if err := db.AppendMessages(ctx, []*store.LoggedMessage{m}); err != nil {
		t.Fatal(err)
	}
	l, err := NewMessageLog(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got, err := l.Get(ctx, "wxapp", "msg:7")
	if err != nil {
		t.Fatalf("MessageLog.Get = %v", err)
	}
	want := &LoggedMessage{AppID: "wxapp", DedupKey: "msg:7", Done: true, FromUser: "o1", ToUser: "gh", MsgType: "text",
		MsgID: 7, CreateTime: t0.Unix(), ReceivedAt: t0, Request: m.Request, Reply: m.Reply}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("MessageLog.Get mismatch (-want +got):\n%s", d)
	}
	c, err := l.App("wxapp", time.Hour).Claim(ctx, "msg:7", time.Minute)
	if err != nil || c.State != webhook.ClaimDone || string(c.Reply) != "<xml>reply</xml>" {
		t.Errorf("Claim(appended key) = %v %q, %v; want done with the logged reply", c.State, c.Reply, err)
	}
	if n, err := db.CountMessages(ctx, "wxapp"); err != nil || n != 1 {
		t.Errorf("CountMessages() = %d, %v; want 1", n, err)
	}
}

// TestPing checks Ping on an open and a closed DB.
func TestPing(t *testing.T) {
	t.Parallel()
	db := openTemp(t, filepath.Join(t.TempDir(), "ping.db"))
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping() = %v, want nil", err)
	}
	db.Close()
	if err := db.Ping(t.Context()); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Ping() on a closed DB = %v, want an error", err)
	}
}
