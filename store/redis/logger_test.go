package redis

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// TestSetLoggerRoutesDriverLines: a dial failure that go-redis logs comes
// out as a JSON slog record, not as a plain line on stderr.
func TestSetLoggerRoutesDriverLines(t *testing.T) {
	var buf bytes.Buffer
	SetLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { SetLogger(nil) })
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: 1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err == nil {
		t.Fatal("Ping to a closed port succeeded")
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) == 0 || len(lines[0]) == 0 {
		t.Fatal("go-redis logged nothing through SetLogger")
	}
	for _, ln := range lines {
		var rec map[string]any
		if err := json.Unmarshal(ln, &rec); err != nil {
			t.Fatalf("line %q is not a JSON record: %v", ln, err)
		}
		if rec["component"] != "redis" || rec["level"] != "WARN" {
			t.Errorf("record %v, want component redis at WARN", rec)
		}
	}
}
