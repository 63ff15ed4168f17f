// Package pgtest gives tests a PostgreSQL schema of their own on the test
// server (internal/testenv: $WXKIT_TEST_POSTGRES_URL, skipped when the
// server is down unless CI=true), so that parallel tests and parallel runs
// never see each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wxkit/wxkit/internal/testenv"
)

// SchemaURL creates an empty schema for t (wxkit_test_<random>) and
// returns the server URL with search_path set to it, ready for
// postgres.Open or a gateway's store: key. The schema is dropped, with
// everything in it, in t.Cleanup.
func SchemaURL(t testing.TB) string {
	t.Helper()
	base := testenv.PostgresURL(t)
	var b [8]byte
	rand.Read(b[:])
	schema := "wxkit_test_" + hex.EncodeToString(b[:])
	if err := exec(base, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if err := exec(base, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: test URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// exec runs one statement on its own connection.
func exec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
