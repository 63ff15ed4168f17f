package gateway

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var generatedID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// TestRequestID: a sane incoming X-Request-Id is echoed and carried by the
// request's log lines; a missing or bad one is replaced by a generated id.
func TestRequestID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		incoming []string // X-Request-Id values sent
		wantSame bool     // the (first) incoming id is kept
	}{
		{name: "sane id", incoming: []string{"req-7f3a.9:b/c_d=e"}, wantSame: true},
		{name: "128 bytes", incoming: []string{strings.Repeat("a", 128)}, wantSame: true},
		{name: "none"},
		{name: "empty", incoming: []string{""}},
		{name: "too long", incoming: []string{strings.Repeat("a", 129)}},
		{name: "space", incoming: []string{"req 1"}},
		{name: "control character", incoming: []string{"req\x01"}},
		{name: "not ASCII", incoming: []string{"请求-1"}},
		{name: "forged log attribute", incoming: []string{"x\nlevel=ERROR msg=forged"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logs := &logBuffer{}
			logger := slog.New(newRequestIDHandler(slog.NewJSONHandler(logs, nil)))
			var ctxID string
			h := withRequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctxID = RequestID(r.Context())
				logger.InfoContext(r.Context(), "handling", slog.String("k", "v"))
				logger.With(slog.String("appid", "wx1")).LogAttrs(r.Context(), slog.LevelWarn, "with attrs")
				logger.Info("no context")
			}))
			r := httptest.NewRequest("GET", "/x", nil)
			for _, v := range tc.incoming {
				r.Header.Add(RequestIDHeader, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)

			got := w.Header().Get(RequestIDHeader)
			if tc.wantSame {
				if got != tc.incoming[0] {
					t.Errorf("X-Request-Id = %q, want the incoming %q", got, tc.incoming[0])
				}
			} else if !generatedID.MatchString(got) {
				t.Errorf("X-Request-Id = %q, want a generated 32-hex-digit id", got)
			}
			if ctxID != got {
				t.Errorf("RequestID(ctx) = %q, response header %q", ctxID, got)
			}
			var lines []map[string]any
			for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("log line %q: %v", l, err)
				}
				lines = append(lines, m)
			}
			var ids []any
			for _, m := range lines {
				ids = append(ids, m["request_id"])
			}
			if diff := cmp.Diff([]any{got, got, nil}, ids); diff != "" {
				t.Errorf("request_id of the log lines (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRequestIDsDiffer: generated ids are distinct.
func TestRequestIDsDiffer(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := newRequestID()
		if seen[id] || !generatedID.MatchString(id) {
			t.Fatalf("newRequestID = %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
}

func TestNewRequestIDHandlerWrapsOnce(t *testing.T) {
	t.Parallel()
	h := newRequestIDHandler(slog.DiscardHandler)
	if h2 := newRequestIDHandler(h); h2 != h {
		t.Errorf("newRequestIDHandler(wrapped) wrapped again")
	}
}

func TestWriteJSONError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		id   string
		want string
	}{
		{"with id", "rid-9", `{"error":"nope","request_id":"rid-9"}`},
		{"without id", "", `{"error":"nope"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			if tc.id != "" {
				r = r.WithContext(contextWithRequestID(r.Context(), tc.id))
			}
			w := httptest.NewRecorder()
			writeJSONError(w, r, http.StatusTeapot, "nope")
			if w.Code != http.StatusTeapot {
				t.Errorf("status = %d, want 418", w.Code)
			}
			if got := strings.TrimSpace(w.Body.String()); got != tc.want {
				t.Errorf("body = %s, want %s", got, tc.want)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func BenchmarkWithRequestID(b *testing.B) {
	h := withRequestID(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, bc := range []struct {
		name, id string
	}{
		{"generated", ""},
		{"incoming", "req-0123456789abcdef"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("POST", "/wx/x", nil)
			if bc.id != "" {
				r.Header.Set(RequestIDHeader, bc.id)
			}
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}
