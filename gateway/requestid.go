package gateway

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
)

// RequestIDHeader is the header that carries a request's id, in both
// directions.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen is the longest incoming X-Request-Id honoured.
const maxRequestIDLen = 128

type requestIDKey struct{}

// RequestID returns the id of the request whose context is ctx (see
// withRequestID), or "" when there is none.
func RequestID(ctx context.Context) string {
	if p, _ := ctx.Value(requestIDKey{}).(*string); p != nil {
		return *p
	}
	return ""
}

// contextWithRequestID returns ctx carrying id.
func contextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, &id)
}

// withRequestID gives every request an id: the incoming X-Request-Id when
// it is sane (1 to 128 bytes of printable ASCII, no space), else a new one
// (16 random bytes, hex). The id is set on the response's X-Request-Id
// before next runs, and put in the request's context (RequestID), where
// newRequestIDHandler and writeJSONError find it. Ids are
// correlation handles, not secrets: they come from a fast non-cryptographic
// generator.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		// The context holds a pointer into the header's slice: a pointer
		// is stored in the context without boxing (one allocation less
		// on every request). Nothing writes that element afterwards.
		v := []string{id}
		w.Header()[RequestIDHeader] = v
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, &v[0])))
	})
}

// validRequestID reports whether id is 1 to 128 bytes of printable ASCII
// without spaces, safe to echo in a header and a log line.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// newRequestID returns 16 random bytes in hex (32 characters).
func newRequestID() string {
	var b [16]byte
	var x [32]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	hex.Encode(x[:], b[:])
	return string(x[:])
}

// requestIDHandler is a slog.Handler that adds request_id to every record
// logged with a context carrying one (LogAttrs(ctx, …), InfoContext(ctx,
// …)), then passes it to the wrapped Handler.
type requestIDHandler struct {
	h slog.Handler
}

// newRequestIDHandler wraps h so that every record logged with the context
// of a request (one that went through withRequestID) carries the attribute
// request_id. Records logged without such a context are passed on
// unchanged. New wraps its logger's handler with it.
func newRequestIDHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{h: h}
}

// Enabled implements slog.Handler.
func (h requestIDHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.h.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.h.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h: h.h.WithAttrs(as)}
}

// WithGroup implements slog.Handler. (request_id then goes inside the
// group, as every attribute added to a record does.)
func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h: h.h.WithGroup(name)}
}

// jsonError is the body of writeJSONError.
type jsonError struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// writeJSONError answers status with {"error": msg, "request_id": id}
// (request_id from r's context, omitted when there is none), as JSON,
// not cached.
func writeJSONError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(jsonError{Error: msg, RequestID: RequestID(r.Context())})
}
