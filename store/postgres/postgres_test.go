package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/token"
)

func TestOpenRuntimeParams(t *testing.T) {
	t.Parallel()
	u := newSchemaURL(t)
	parsed, _ := url.Parse(u)
	schema := parsed.Query().Get("search_path")
	tests := []struct {
		name    string
		extra   string
		wantApp string
	}{
		{"default application_name", "", "wxkit"},
		{"application_name from the URL", "&application_name=gw-7", "gw-7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openURL(t, u+tt.extra)
			var gotSchema, gotApp string
			err := db.Pool().QueryRow(t.Context(), `SELECT current_schema(), current_setting('application_name')`).
				Scan(&gotSchema, &gotApp)
			if err != nil {
				t.Fatal(err)
			}
			if gotSchema != schema || gotApp != tt.wantApp {
				t.Errorf("current_schema, application_name = %q, %q; want %q, %q", gotSchema, gotApp, schema, tt.wantApp)
			}
			if err := db.Ping(t.Context()); err != nil {
				t.Errorf("Ping = %v", err)
			}
		})
	}
}

func TestWithMaxConns(t *testing.T) {
	t.Parallel()
	db := openURL(t, newSchemaURL(t), WithMaxConns(3))
	if got := db.Pool().Config().MaxConns; got != 3 {
		t.Errorf("MaxConns = %d, want 3", got)
	}
}

// TestOpenErrorsHidePassword opens URLs that fail (unparsable, no server)
// and checks that the password is in no error message.
func TestOpenErrorsHidePassword(t *testing.T) {
	t.Parallel()
	const pw = "Sup3r-s3cret_pw"
	tests := []struct {
		name string
		url  string
	}{
		{"bad port", "postgres://wxkit:" + pw + "@127.0.0.1:notaport/db"},
		{"bad option", "postgres://wxkit:" + pw + "@127.0.0.1:5432/db?sslmode=bogus"},
		{"no server", "postgres://wxkit:" + pw + "@127.0.0.1:1/db?connect_timeout=2"},
		{"escaped password", "postgres://wxkit:" + url.PathEscape(pw+"/@:") + "@127.0.0.1:1/db?connect_timeout=2"},
		{"key=value", "host=127.0.0.1 port=1 user=wxkit password=" + pw + " dbname=db connect_timeout=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(t.Context(), tt.url)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%s) = nil error, want one", tt.name)
			}
			if msg := err.Error(); strings.Contains(msg, pw) || strings.Contains(msg, url.PathEscape(pw+"/@:")) {
				t.Errorf("Open error holds the password: %s", msg)
			}
			if !strings.HasPrefix(err.Error(), "postgres: open: ") {
				t.Errorf("Open error = %q, want the prefix %q", err, "postgres: open: ")
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	base := errors.New("base")
	tests := []struct {
		name, conn, msg, want string
	}{
		{"url", "postgres://u:pw123@h/db", "cannot parse postgres://u:pw123@h/db", "cannot parse postgres://u:xxxxx@h/db"},
		{"escaped", "postgres://u:p%2Fw@h/db", "dial postgres://u:p%2Fw@h: p/w", "dial postgres://u:xxxxx@h: xxxxx"},
		{"dsn", "host=h password=pw123 user=u", "bad: password=pw123", "bad: password=xxxxx"},
		{"dsn quoted", "host=h password='p w' user=u", "bad: password='p w'", "bad: password=xxxxx"},
		{"no password", "postgres://u@h/db", "failed", "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := redact(fmt.Errorf("%s: %w", tt.msg, base), tt.conn)
			if err.Error() != tt.want+": base" {
				t.Errorf("redact() = %q, want %q", err, tt.want+": base")
			}
			if !errors.Is(err, base) {
				t.Errorf("errors.Is(redact(err), base) = false, want true")
			}
		})
	}
}

// TestErrorsNamePackageAndOp checks the "postgres: <op>: " prefix and that
// a context error stays recognisable.
func TestErrorsNamePackageAndOp(t *testing.T) {
	t.Parallel()
	db := newMigrated(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := db.TokenStore().Get(ctx, "k")
	if err == nil || errors.Is(err, token.ErrNotFound) {
		t.Fatalf("Get(canceled ctx) = %v, want a context error", err)
	}
	if !strings.HasPrefix(err.Error(), `postgres: token get "k": `) || !errors.Is(err, context.Canceled) {
		t.Errorf("Get(canceled ctx) = %q, want prefix %q wrapping context.Canceled", err, `postgres: token get "k": `)
	}
	if _, err := db.User(ctx, "wx", "o"); err == nil || !strings.HasPrefix(err.Error(), "postgres: user: ") {
		t.Errorf("User(canceled ctx) = %v, want prefix %q", err, "postgres: user: ")
	}
}
