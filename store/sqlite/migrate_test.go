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
	{6, "message_log_drop_state"},
	{7, "orders"},
	{8, "authorizers"},
	{9, "wxa"},
	{10, "refunds_state"},
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
	return queryStrings(t, db,
		`SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
}

// tableColumns lists the columns of table in order.
func tableColumns(t *testing.T, db *DB, table string) []string {
	t.Helper()
	return queryStrings(t, db, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
}

// queryStrings returns the single text column of the rows of query.
func queryStrings(t *testing.T, db *DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), query, args...)
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
	"index wxkit_orders_owner",
	"index wxkit_orders_prepay",
	"index wxkit_orders_state",
	"index wxkit_outbox_dead",
	"index wxkit_outbox_due",
	"index wxkit_refunds_order",
	"index wxkit_refunds_state",
	"index wxkit_sessions_expires",
	"index wxkit_users_unionid",
	"table schema_migrations",
	"table wxkit_authorizers",
	"table wxkit_dedup",
	"table wxkit_instances",
	"table wxkit_message_log",
	"table wxkit_oauth_states",
	"table wxkit_orders",
	"table wxkit_outbox",
	"table wxkit_refunds",
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

// sqlRow is a statement with its arguments, writing a row as an earlier
// release did.
type sqlRow struct {
	sql  string
	args []any
}

// writeOldFile creates the database file at path as an earlier release
// left it: the migrations up to version applied (0: the baseline DDL run
// by hand, without schema_migrations, as the release before versioning
// did), then rows.
func writeOldFile(t *testing.T, path string, applied int, rows []sqlRow) {
	t.Helper()
	ctx := t.Context()
	old := openTemp(t, path)
	if applied == 0 {
		baseline, err := fs.ReadFile(migrationFiles, "migrations/0001_baseline.sql")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.ExecContext(ctx, string(baseline)); err != nil {
			t.Fatalf("baseline DDL = %v", err)
		}
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:applied] {
		if _, _, err := old.applyMigration(ctx, m); err != nil {
			t.Fatalf("applyMigration(%d) = %v", m.Version, err)
		}
	}
	for _, r := range rows {
		if _, err := old.ExecContext(ctx, r.sql, r.args...); err != nil {
			t.Fatalf("%s: %v", r.sql, err)
		}
	}
	old.Close()
}

// TestMigrateAdoptsUnversionedFile simulates a file written by a release
// whose stores created their own tables (the baseline DDL, no
// schema_migrations) and holding data: Migrate adopts it, upgrades it and
// keeps the data readable through the new interfaces.
func TestMigrateAdoptsUnversionedFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	ctx := t.Context()
	t0 := time.UnixMilli(1_700_000_000_000)
	writeOldFile(t, path, 0, []sqlRow{
		{`INSERT INTO wxkit_sessions (id_hash, appid, openid, created_at, expires_at) VALUES (?, 'wxapp', 'o1', ?, ?)`,
			[]any{hashID("old-session"), t0.UnixMilli(), t0.Add(time.Hour).UnixMilli()}},
		{`INSERT INTO wxkit_users (appid, openid, nickname, first_seen, last_seen) VALUES ('wxapp', 'o1', '张三', ?, ?)`,
			[]any{t0.UnixMilli(), t0.UnixMilli()}},
		{`INSERT INTO wxkit_message_log (app_id, dedup_key, state, lease_until, received_at, msg_type, request, reply)
			VALUES ('wxapp', 'msg:1', 2, 0, ?, 'text', x'3c786d6c2f3e', x'')`, []any{t0.UnixMilli()}},
		{`INSERT INTO wxkit_tokens (key, value, expires_at) VALUES ('wechat:access_token:wxapp', 'tok', 0)`, nil},
	})

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

// TestMigrateDropsMessageLogState upgrades files whose message log holds
// rows of the MessageLog of earlier releases (state 1 pending with a lease,
// state 2 recorded, archived "key#id" rows), from the release before
// versioning and from version 5: the pending rows, never completed
// messages, are deleted, the recorded ones kept as they were, the columns
// state and lease_until dropped, and the log works afterwards.
func TestMigrateDropsMessageLogState(t *testing.T) {
	t.Parallel()
	t0 := time.UnixMilli(1_700_000_000_000)
	at := func(minutes int) int64 { return t0.Add(time.Duration(minutes) * time.Minute).UnixMilli() }
	const insert = `INSERT INTO wxkit_message_log (app_id, dedup_key, state, lease_until, received_at, msg_type, request, reply)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	rows := []sqlRow{
		// Recorded with no expiry (also what AppendMessages wrote up to version 5).
		{insert, []any{"wxapp", "msg:1", 2, 0, at(1), "text", []byte("<xml>1</xml>"), []byte("<xml>r1</xml>")}},
		// Recorded, answering as done until lease_until.
		{insert, []any{"wxapp", "msg:2", 2, at(60), at(2), "text", []byte("<xml>2</xml>"), []byte{}}},
		// Recorded, then archived when its key was claimed again.
		{insert, []any{"wxapp", "msg:3#3", 2, at(3), at(3), "event", []byte("<xml>3</xml>"), []byte{}}},
		// Claimed and in flight: a claim writes the key, lease and time only.
		{`INSERT INTO wxkit_message_log (app_id, dedup_key, state, lease_until, received_at) VALUES (?, ?, 1, ?, ?)`,
			[]any{"wxapp", "msg:4", at(5), at(4)}},
		// Claimed by a process that died: its lease has run out.
		{`INSERT INTO wxkit_message_log (app_id, dedup_key, state, lease_until, received_at) VALUES (?, ?, 1, ?, ?)`,
			[]any{"wxother", "msg:4", at(0), at(0)}},
	}
	wantColumns := []string{"id", "app_id", "dedup_key", "received_at", "from_user", "to_user", "msg_type", "event",
		"msg_id", "create_time", "request", "reply"}
	msg := func(app, key string, minutes int, typ, req, reply string) *store.LoggedMessage {
		m := &store.LoggedMessage{AppID: app, DedupKey: key, MsgType: typ, ReceivedAt: time.UnixMilli(at(minutes))}
		if req != "" {
			m.Request = []byte(req)
		}
		if reply != "" {
			m.Reply = []byte(reply)
		}
		return m
	}
	wantKept := []*store.LoggedMessage{
		msg("wxapp", "msg:3#3", 3, "event", "<xml>3</xml>", ""),
		msg("wxapp", "msg:2", 2, "text", "<xml>2</xml>", ""),
		msg("wxapp", "msg:1", 1, "text", "<xml>1</xml>", "<xml>r1</xml>"),
	}

	for _, tt := range []struct {
		name    string
		applied int
	}{
		{"from the release before versioning", 0},
		{"from version 5", 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "old.db")
			writeOldFile(t, path, tt.applied, rows)
			db := openTemp(t, path)
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatalf("Migrate() = %v", err)
			}
			if d := cmp.Diff(wantColumns, tableColumns(t, db, "wxkit_message_log")); d != "" {
				t.Errorf("wxkit_message_log columns mismatch (-want +got):\n%s", d)
			}
			if d := cmp.Diff(wantSchema, schemaObjects(t, db)); d != "" {
				t.Errorf("schema mismatch (-want +got):\n%s", d)
			}
			got, err := db.Messages(ctx, store.MessageQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(wantKept, got); d != "" {
				t.Errorf("Messages() after the upgrade mismatch (-want +got):\n%s", d)
			}
			if n, err := db.CountMessages(ctx, ""); err != nil || n != len(wantKept) {
				t.Errorf("CountMessages() = %d, %v; want %d", n, err, len(wantKept))
			}

			// The key of a deleted pending row is free: its delivery is
			// logged; a recorded key keeps its row.
			err = db.AppendMessages(ctx, []*store.LoggedMessage{
				msg("wxapp", "msg:4", 6, "text", "<xml>4</xml>", ""),
				msg("wxapp", "msg:1", 6, "text", "<xml>1 again</xml>", ""),
			})
			if err != nil {
				t.Fatalf("AppendMessages() after the upgrade = %v", err)
			}
			got, err = db.Messages(ctx, store.MessageQuery{AppID: "wxapp", Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			want := []*store.LoggedMessage{msg("wxapp", "msg:4", 6, "text", "<xml>4</xml>", ""), wantKept[0]}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Messages() after appending mismatch (-want +got):\n%s", d)
			}
		})
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
