package emulator

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wxkit/wxkit"
)

// errMsgs are the errmsg texts of the real platform, without the rid suffix.
var errMsgs = map[int]string{
	-1:    "system error",
	0:     "ok",
	40001: "invalid credential, access_token is invalid or not latest",
	40002: "invalid grant_type",
	40003: "invalid openid",
	40007: "invalid media_id",
	40013: "invalid appid",
	40014: "invalid access_token",
	40029: "invalid code",
	40030: "invalid refresh_token",
	40097: "invalid args",
	40125: "invalid appsecret",
	40163: "code been used",
	41001: "access_token missing",
	41002: "appid missing",
	41003: "refresh_token missing",
	41004: "appsecret missing",
	41008: "missing code",
	41009: "missing openid",
	42001: "access_token expired",
	42002: "refresh_token expired",
	42003: "code expired",
	43001: "require GET method",
	43002: "require POST method",
	43004: "require subscribe",
	44002: "empty post data",
	45009: "reach max api daily quota limit",
	45011: "api minute-quota reach limit, must slower, retry next minute",
	46001: "media data missing",
	46003: "menu no exist",
	47001: "data format error",
	48001: "api unauthorized",
}

// errMsg returns the platform's errmsg for code (without rid).
func errMsg(code int) string {
	if m, ok := errMsgs[code]; ok {
		return m
	}
	return fmt.Sprintf("errcode %d", code)
}

// apiErr returns an *wxkit.APIError with the platform's errmsg for code.
func apiErr(code int) *wxkit.APIError { return &wxkit.APIError{ErrCode: code, ErrMsg: errMsg(code)} }

// newRID returns a request id in the platform's shape
// "xxxxxxxx-xxxxxxxx-xxxxxxxx": the first part is the Unix time in hex,
// the other two are random.
func newRID(now time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%08x-%08x-%08x", uint32(now.Unix()), binary.BigEndian.Uint32(b[:4]), binary.BigEndian.Uint32(b[4:]))
}

// withRID appends " rid: ..." to msg as the platform does.
func withRID(msg string, now time.Time) string { return msg + " rid: " + newRID(now) }

// writeJSON answers 200 with v as JSON, as the platform does
// ("application/json; encoding=utf-8").
func writeJSON(w http.ResponseWriter, v any) { writeStatusJSON(w, http.StatusOK, v) }

func writeStatusJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "emulator: encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// errBody is the errcode/errmsg envelope.
type errBody struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// writeErr answers HTTP 200 {"errcode":code,"errmsg":"<platform text> rid: ..."}.
func (e *Emulator) writeErr(w http.ResponseWriter, code int) {
	e.writeErrMsg(w, code, errMsg(code))
}

// writeErrMsg answers HTTP 200 with code and msg (a rid is appended).
func (e *Emulator) writeErrMsg(w http.ResponseWriter, code int, msg string) {
	writeStatusErrMsg(w, http.StatusOK, code, msg, e.Now())
}

// writeAPIError answers with err: an *wxkit.APIError gives its code and
// message, anything else -1 "system error".
func (e *Emulator) writeAPIError(w http.ResponseWriter, err error) {
	var ae *wxkit.APIError
	if errors.As(err, &ae) {
		e.writeErrMsg(w, ae.ErrCode, ae.ErrMsg)
		return
	}
	e.logger.Error("emulator: internal error", "err", err)
	e.writeErr(w, -1)
}

func writeStatusErrMsg(w http.ResponseWriter, status, code int, msg string, now time.Time) {
	if rec, ok := w.(*callRecorder); ok {
		rec.errCode = code
	}
	writeStatusJSON(w, status, errBody{ErrCode: code, ErrMsg: withRID(msg, now)})
}

// recorderKey is the context key of the *callRecorder of a platform call.
type recorderKey struct{}

// callRecorder wraps the ResponseWriter of a platform call so that stats
// see the status, errcode and app of each call.
type callRecorder struct {
	http.ResponseWriter
	status  int
	errCode int
	appID   string
	trace   *callTrace // for rid/get (mp_platform.go)
}

func (c *callRecorder) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *callRecorder) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.trace != nil {
		_, _ = c.trace.resp.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *callRecorder) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *callRecorder) failed() bool { return c.errCode != 0 || c.status >= 400 }

// setCallApp attributes the current platform call to appID in stats (for
// routes whose app is known only after parsing the request, such as pay).
func setCallApp(r *http.Request, appID string) {
	if rec, ok := r.Context().Value(recorderKey{}).(*callRecorder); ok {
		rec.appID = appID
	}
}

// maxBody caps request bodies read by the emulator.
const maxBody = 1 << 20

// requestAppID works out which app a platform call is for, before routing:
// the appid query parameter, else the app of the access_token, else an
// "appid" field of a JSON body (the body is restored for the handler).
func (e *Emulator) requestAppID(r *http.Request) string {
	q := r.URL.Query()
	if id := q.Get("appid"); id != "" {
		return id
	}
	if tok := q.Get("access_token"); tok != "" {
		e.tokMu.Lock()
		rec := e.tokens[tok]
		e.tokMu.Unlock()
		if rec != nil {
			return rec.appID
		}
		return ""
	}
	if r.Body == nil || r.Method != http.MethodPost ||
		strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		return ""
	}
	// Peek at most maxBody bytes and hand the handler the whole body back.
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	if err != nil || len(b) > maxBody {
		return ""
	}
	t := bytes.TrimSpace(b)
	if len(t) == 0 || t[0] != '{' {
		return ""
	}
	var v struct {
		AppID string `json:"appid"`
	}
	if json.Unmarshal(t, &v) == nil {
		return strings.TrimSpace(v.AppID)
	}
	return ""
}

// readBody reads a platform request body (at most 1 MiB).
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return wxkit.ReadLimited(r.Body, maxBody)
}
