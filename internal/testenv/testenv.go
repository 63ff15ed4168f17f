// Package testenv tells tests where the real PostgreSQL and Redis servers
// are, and what to do when they are not there. It is test support only.
//
//	WXKIT_TEST_POSTGRES_URL  default postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//	WXKIT_TEST_REDIS_URL     default redis://127.0.0.1:6379/0
//
// A test that needs a server calls PostgresURL or RedisURL. When the server
// does not accept connections the test is skipped with a message naming the
// variable, unless CI=true: then it fails, so that CI never passes without
// having run the store tests.
package testenv

import (
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// Defaults used when the environment variables are unset.
const (
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
)

// CI reports whether the tests run under CI=true, where every external
// server is required.
func CI() bool { return os.Getenv("CI") == "true" }

// PostgresURL returns $WXKIT_TEST_POSTGRES_URL (or DefaultPostgresURL) after
// checking that the server accepts TCP connections; otherwise it skips t,
// or fails it under CI=true.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return reachable(t, "WXKIT_TEST_POSTGRES_URL", DefaultPostgresURL, "5432")
}

// RedisURL returns $WXKIT_TEST_REDIS_URL (or DefaultRedisURL) after checking
// that the server accepts TCP connections; otherwise it skips t, or fails
// it under CI=true.
func RedisURL(t testing.TB) string {
	t.Helper()
	return reachable(t, "WXKIT_TEST_REDIS_URL", DefaultRedisURL, "6379")
}

// RedisAddr returns the host:port of RedisURL.
func RedisAddr(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(RedisURL(t))
	if err != nil {
		t.Fatalf("testenv: WXKIT_TEST_REDIS_URL: %v", err)
	}
	return hostPort(u, "6379")
}

func reachable(t testing.TB, env, def, port string) string {
	t.Helper()
	raw := os.Getenv(env)
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		t.Fatalf("testenv: %s=%q is not a URL", env, raw)
	}
	addr := hostPort(u, port)
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		msg := "testenv: no server at " + addr + " (" + env + "): " + err.Error()
		if CI() {
			t.Fatal(msg + "; CI=true requires it")
		}
		t.Skip(msg + "; set " + env + " or start the server to run this test")
	}
	c.Close()
	return raw
}

func hostPort(u *url.URL, port string) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), port)
}
