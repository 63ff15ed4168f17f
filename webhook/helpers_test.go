package webhook_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
)

// Test credentials: distinctive so that a leak into a log line is caught.
const (
	testToken  = "tok3n-Secr3t-9f8e7d"
	testAESKey = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE"
	testAppID  = "wx0123456789abcdef"
)

// logBuffer is a concurrency-safe io.Writer for a slog handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the non-empty log lines.
func (b *logBuffer) lines() []string {
	var out []string
	for l := range strings.SplitSeq(b.String(), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func newLogger() (*slog.Logger, *logBuffer) {
	b := new(logBuffer)
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// recorder is a webhook.Recorder keeping what it was told.
type recorder struct {
	mu      sync.Mutex
	msgs    []*message.Message
	replies []string
	fail    error
}

func (r *recorder) Record(_ context.Context, m *message.Message, reply []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		err := r.fail
		r.fail = nil
		return err
	}
	r.msgs = append(r.msgs, m)
	r.replies = append(r.replies, string(reply))
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// echo answers every message with a text naming its type and content.
func echo(_ context.Context, m *message.Message) (message.Reply, error) {
	return &message.Text{Content: "echo " + string(m.MsgType) + " " + m.Content}, nil
}

func serve(s *webhook.Server, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// corpusMessages returns the corpus's inbound messages by file name.
func corpusMessages(t *testing.T) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte)
	for _, p := range corpus.Glob(t, "messages/*.xml") {
		out[strings.TrimSuffix(filepath.Base(p), ".xml")] = corpus.ReadFile(t, "messages", filepath.Base(p))
	}
	return out
}

func mustParse(t *testing.T, b []byte) *message.Message {
	t.Helper()
	m, err := message.Parse(bytes.Clone(b))
	if err != nil {
		t.Fatalf("message.Parse: %v", err)
	}
	return m
}

// cfg is a copyable description of a Server for test tables (a Server
// itself must not be copied).
type cfg struct {
	token, appID, key string
	mode              webhook.Mode
	maxBody           int64
	window            time.Duration
}

func (c cfg) server() *webhook.Server {
	return &webhook.Server{Token: c.token, AppID: c.appID, EncodingAESKey: c.key, Mode: c.mode, MaxBodyBytes: c.maxBody, TimestampWindow: c.window}
}
