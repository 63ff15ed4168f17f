package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/wxcrypto"
)

// Mode is the message encryption mode configured for an account on the
// WeChat console (消息加解密方式).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
type Mode string

const (
	// ModePlain (明文模式): pushes are plaintext XML signed with
	// "signature". A plain-mode Server that has an EncodingAESKey also
	// accepts encrypted pushes (useful while switching modes); without a key
	// it refuses them with 400.
	ModePlain Mode = "plain"
	// ModeCompat (兼容模式): pushes carry the plaintext fields and an
	// <Encrypt> element, with encrypt_type=aes and msg_signature. The Server
	// uses the encrypted part, answers encrypted, and also accepts plaintext
	// pushes. Requires EncodingAESKey.
	ModeCompat Mode = "compat"
	// ModeSafe (安全模式): pushes are an envelope holding only <Encrypt>; the
	// Server refuses unencrypted pushes with 403. Requires EncodingAESKey.
	ModeSafe Mode = "safe"
)

// Defaults used when the corresponding Server field is zero.
const (
	// DefaultTimeout is the Handler deadline: below WeChat's 5 s, leaving
	// time to record, encrypt and write the reply.
	DefaultTimeout = 4500 * time.Millisecond
	// DefaultTimestampWindow is the largest accepted difference between the
	// timestamp parameter and the Server's clock, in either direction.
	DefaultTimestampWindow = 5 * time.Minute
	// DefaultMaxBodyBytes caps a push body (1 MiB).
	DefaultMaxBodyBytes = 1 << 20
	// DefaultDedupTTL is how long a completed delivery is remembered. It is
	// never shorter than the timestamp window, so that a replayed push is
	// either stale or a known duplicate.
	DefaultDedupTTL = 5 * time.Minute
	// DefaultDedupPollInterval is how often a retry polls a DedupStore that
	// is not a DedupWaiter while the first delivery is in flight.
	DefaultDedupPollInterval = 50 * time.Millisecond
	// LateReplyTimeout bounds one LateReply call.
	LateReplyTimeout = 30 * time.Second
)

// NoTimestampCheck, as Server.TimestampWindow, disables the timestamp check
// (for replaying recorded vectors; never in production).
const NoTimestampCheck time.Duration = -1

// LateReplyFunc delivers a reply that the Handler produced after the
// deadline, when the Server has already answered "success". The gateway
// implements it with the customer-service message API (text, image, news,
// ...); it fails for instance with errcode 45015 when the user has not
// interacted within 48 hours. Its error is logged. ctx carries no deadline
// of the request; it is bounded by LateReplyTimeout.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
type LateReplyFunc func(ctx context.Context, m *message.Message, r message.Reply) error

// Recorder is told about every accepted message, once, with the plaintext
// reply XML that is about to be written (nil when the answer is "success":
// no reply, a handler error or a missed deadline). It runs after the
// Handler and before the answer is written; if it returns an error the
// Server answers 500 and releases the dedup claim, so that WeChat's retry
// processes the message afresh. Repeated deliveries answered from the
// DedupStore are not recorded again. reply must not be retained after
// Record returns.
type Recorder interface {
	Record(ctx context.Context, m *message.Message, reply []byte) error
}

// OnceRecorder is an optional interface of a Recorder that keeps one
// durable record per dedup key, shared by several processes (e.g. a
// message log with one row per key, which also serves those processes as
// their shared dedup). The Server calls RecordOnce instead of Record: it
// stores m with reply unless another delivery of the same key was recorded
// first; then it stores nothing and returns that delivery's reply (empty
// for "success") with dup == true, and the Server answers it, and completes
// its dedup claim with it, instead of its own reply, so that every delivery
// of a message gets the same answer. An error is handled as a Record error.
// recorded may be retained by the Server.
type OnceRecorder interface {
	Recorder
	RecordOnce(ctx context.Context, m *message.Message, reply []byte) (recorded []byte, dup bool, err error)
}

// RecorderFunc adapts a function to a Recorder.
type RecorderFunc func(ctx context.Context, m *message.Message, reply []byte) error

// Record calls f(ctx, m, reply).
func (f RecorderFunc) Record(ctx context.Context, m *message.Message, reply []byte) error {
	return f(ctx, m, reply)
}

// Server receives the pushes of one account (one URL): it is an
// http.Handler answering GET with the echostr handshake and POST with the
// Handler's passive reply. Configure the fields, then serve; the fields must
// not change after the first request. Init validates them early.
//
// POST status codes (each rejection logs one warn line naming the reason,
// without any secret or body; the Handler never runs and nothing is
// recorded):
//   - 200: accepted; body is the reply XML (encrypted envelope for an
//     encrypted push), or "success".
//   - 400: a missing or malformed parameter (signature, timestamp, nonce,
//     msg_signature, encrypt_type), an empty body, XML that does not parse,
//     is not UTF-8 or holds a character XML 1.0 forbids, a push without its
//     required elements (message.Parse), no <Encrypt> element,
//     undecryptable ciphertext, or an encrypted push to a Server without
//     EncodingAESKey; for JSON pushes (Format), a body or plaintext that
//     is not one JSON object, or lacks a required field, or an envelope
//     without "Encrypt".
//   - 403: a wrong signature or msg_signature, a timestamp outside
//     TimestampWindow, a foreign AppID inside the ciphertext, a plaintext
//     push to a safe-mode Server, or a plaintext push whose signature was
//     already used with another body (see Replay).
//   - 405: any method but GET and POST (with an Allow header).
//   - 413: a body over MaxBodyBytes (or a JSON push whose XML form is
//     over message.MaxSize).
//   - 500: invalid configuration, a DedupStore (or Replay store) failure
//     on Claim, or a Recorder failure (WeChat retries).
//
// GET (URL verification) answers 200 with the echostr (text/plain,
// nosniff), 400 and 403 as above. The Official Account handshake is always
// plaintext with "signature", in every mode. When there is no signature but
// a msg_signature and the Server has an EncodingAESKey, the echostr is taken
// as encrypted (WeCom and Open Platform style): msg_signature is verified
// over it, it is decrypted, its AppID checked, and the plaintext echoed.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
type Server struct {
	// AppID is the account's AppID (or the component AppID for Open Platform
	// pushes, or a WeCom CorpID); an encrypted push must carry it.
	// Required with EncodingAESKey.
	AppID string
	// Token is the token configured on the console. Required.
	Token string
	// EncodingAESKey is the 43-character key of safe and compatible mode.
	EncodingAESKey string
	// Mode is ModePlain, ModeCompat or ModeSafe; empty means ModeSafe when
	// EncodingAESKey is set and ModePlain otherwise.
	Mode Mode
	// Format is the data format of the pushes: FormatXML (empty means
	// FormatXML), FormatJSON or FormatAuto (Mini Programs choose XML or
	// JSON on their console). JSON pushes are parsed with ParseJSON and
	// always answered "success": a Handler's reply to one is logged and
	// dropped (Mini Programs answer through the customer-service API).
	Format Format

	// Handler answers messages; nil means NotFound (always "success").
	Handler Handler
	// Dedup, when set, makes repeated deliveries get the first delivery's
	// reply without running Handler again. Use a shared store when several
	// instances serve one account.
	Dedup DedupStore
	// Replay keeps the signed (timestamp, nonce) pairs of plaintext pushes
	// with a digest of their bodies, so that a body forged under a used
	// signature is refused (replay.go). Nil means Dedup, or a memory store
	// of the Server's own when Dedup is nil too; set a shared store when
	// several instances serve one account with dedup off or in memory.
	Replay DedupStore
	// DedupTTL is how long a completed delivery is remembered; zero means
	// DefaultDedupTTL, and it is raised to TimestampWindow when shorter.
	DedupTTL time.Duration
	// DedupPollInterval: see DefaultDedupPollInterval.
	DedupPollInterval time.Duration
	// Recorder, when set, is told about each accepted message and its reply
	// before the reply is written.
	Recorder Recorder
	// LateReply, when set, receives replies that missed the deadline.
	LateReply LateReplyFunc
	// Observer, when set, is told the outcome and duration of every POST
	// (metrics); see Observer.
	Observer Observer

	// Timeout is the Handler deadline; zero means DefaultTimeout.
	Timeout time.Duration
	// TimestampWindow bounds |now - timestamp|; zero means
	// DefaultTimestampWindow and NoTimestampCheck (negative) disables it.
	TimestampWindow time.Duration
	// MaxBodyBytes caps the POST body; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives rejections and handler failures; nil means
	// slog.Default().
	Logger *slog.Logger
	// Now replaces time.Now for the timestamp window and reply CreateTime
	// (for tests). The Handler deadline uses the runtime clock.
	Now func() time.Time

	once    sync.Once
	initErr error
	cfg     config
}

// config is the validated, defaulted form of the Server's fields.
type config struct {
	mode         Mode
	format       Format
	json         bool // format is not XML: bodies may be JSON
	cipher       *wxcrypto.Cipher
	handler      Handler
	immediate    ImmediateHandler // handler, when it is one
	timeout      time.Duration
	window       int64 // seconds; 0 = off
	maxBody      int64
	dedupTTL     time.Duration
	leaseTTL     time.Duration
	pollInterval time.Duration
	logger       *slog.Logger
	replayMemory *MemoryDedup // signed pairs when neither Replay nor Dedup is set
}

// ErrConfig reports an invalid Server configuration.
var ErrConfig = errors.New("webhook: invalid Server configuration")

// Init validates the configuration and prepares the cipher. ServeHTTP calls
// it on the first request (answering 500 on error); call it at start-up to
// fail early. It returns an error wrapping ErrConfig (and
// wxcrypto.ErrInvalidKey for a bad EncodingAESKey) that never contains the
// Token or the key. Only the first call does any work.
func (s *Server) Init() error {
	s.once.Do(func() { s.initErr = s.init() })
	return s.initErr
}

func (s *Server) init() error {
	c := config{
		mode:         s.Mode,
		handler:      s.Handler,
		timeout:      s.Timeout,
		maxBody:      s.MaxBodyBytes,
		dedupTTL:     s.DedupTTL,
		pollInterval: s.DedupPollInterval,
		logger:       s.Logger,
	}
	if s.Token == "" {
		return fmt.Errorf("%w: Token is required", ErrConfig)
	}
	switch c.mode {
	case "":
		c.mode = ModePlain
		if s.EncodingAESKey != "" {
			c.mode = ModeSafe
		}
	case ModePlain, ModeCompat, ModeSafe:
	default:
		return fmt.Errorf("%w: unknown Mode %q (want plain, compat or safe)", ErrConfig, s.Mode)
	}
	switch c.format = s.Format; c.format {
	case "":
		c.format = FormatXML
	case FormatXML, FormatJSON, FormatAuto:
	default:
		return fmt.Errorf("%w: unknown Format %q (want xml, json or auto)", ErrConfig, s.Format)
	}
	c.json = c.format != FormatXML
	if s.EncodingAESKey == "" && c.mode != ModePlain {
		return fmt.Errorf("%w: Mode %s needs an EncodingAESKey", ErrConfig, c.mode)
	}
	if s.EncodingAESKey != "" {
		if s.AppID == "" {
			return fmt.Errorf("%w: AppID is required with an EncodingAESKey", ErrConfig)
		}
		ci, err := wxcrypto.NewCipher(s.EncodingAESKey, s.AppID)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		c.cipher = ci
	}
	if c.handler == nil {
		c.handler = NotFound
	}
	c.immediate, _ = c.handler.(ImmediateHandler)
	c.replayMemory = &MemoryDedup{}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	switch w := s.TimestampWindow; {
	case w == 0:
		c.window = int64(DefaultTimestampWindow / time.Second)
	case w < 0:
		c.window = 0
	default:
		c.window = max(int64(w/time.Second), 1)
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	if c.dedupTTL <= 0 {
		c.dedupTTL = DefaultDedupTTL
	}
	c.dedupTTL = max(c.dedupTTL, time.Duration(c.window)*time.Second)
	c.leaseTTL = c.timeout + time.Second
	if c.pollInterval <= 0 {
		c.pollInterval = DefaultDedupPollInterval
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	s.cfg = c
	return nil
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ServeHTTP answers the handshake (GET) and pushes (POST).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.Init(); err != nil {
		l := s.Logger
		if l == nil {
			l = slog.Default()
		}
		l.LogAttrs(r.Context(), slog.LevelError, "webhook: server misconfigured", slog.String("error", err.Error()))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	switch r.Method {
	case http.MethodPost:
		s.servePost(w, r)
	case http.MethodGet:
		s.serveHandshake(w, r)
	default:
		w.Header()["Allow"] = allowHeader
		s.reject(w, r, http.StatusMethodNotAllowed, "method not allowed")
	}
}

var (
	allowHeader     = []string{"GET, POST"}
	textContentType = []string{"text/plain; charset=utf-8"}
	xmlContentType  = []string{"application/xml; charset=utf-8"}
	noSniff         = []string{"nosniff"}
	successBody     = []byte("success")
)

// Rejection reasons, as logged in the "reason" attribute.
const (
	reasonMethod         = "method not allowed"
	reasonQuery          = "malformed query"
	reasonNoSignature    = "missing signature"
	reasonNoMsgSignature = "missing msg_signature"
	reasonNoTimestamp    = "missing or malformed timestamp"
	reasonNoNonce        = "missing nonce"
	reasonNoEchostr      = "missing echostr"
	reasonEncryptType    = "unsupported encrypt_type"
	reasonBadSignature   = "bad signature"
	reasonBadMsgSig      = "bad msg_signature"
	reasonStale          = "timestamp outside window"
	reasonTooLarge       = "body too large"
	reasonBody           = "reading body failed"
	reasonEmpty          = "empty body"
	reasonXML            = "malformed message XML"
	reasonNoEncrypt      = "missing Encrypt element"
	reasonCiphertext     = "undecryptable ciphertext"
	reasonAppID          = "AppID in ciphertext does not match"
	reasonPlainInSafe    = "unencrypted push refused in safe mode"
	reasonNoKey          = "encrypted push but no EncodingAESKey configured"
)

// reject writes status with its status text and logs one warn line. It
// never logs the body, the Token, the key or any signature.
func (s *Server) reject(w http.ResponseWriter, r *http.Request, status int, reason string) {
	s.cfg.logger.LogAttrs(r.Context(), slog.LevelWarn, "webhook: request rejected",
		slog.Int("status", status),
		slog.String("reason", reason),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("remote", r.RemoteAddr))
	h := w.Header()
	h["Content-Type"] = textContentType
	h["X-Content-Type-Options"] = noSniff
	w.WriteHeader(status)
	w.Write([]byte(http.StatusText(status)))
}

// checkTimestamp reports whether ts is within the window around now.
func (s *Server) checkTimestamp(ts int64) bool {
	if s.cfg.window == 0 {
		return true
	}
	d := s.now().Unix() - ts
	return d <= s.cfg.window && d >= -s.cfg.window
}

// serveHandshake answers the URL verification GET.
func (s *Server) serveHandshake(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.RawQuery)
	switch {
	case err != nil:
		s.reject(w, r, http.StatusBadRequest, reasonQuery)
		return
	case !q.parseTimestamp():
		s.reject(w, r, http.StatusBadRequest, reasonNoTimestamp)
		return
	case q.nonce == "":
		s.reject(w, r, http.StatusBadRequest, reasonNoNonce)
		return
	case q.echostr == "":
		s.reject(w, r, http.StatusBadRequest, reasonNoEchostr)
		return
	}
	echo := q.echostr
	if q.signature == "" && q.msgSignature != "" && s.cfg.cipher != nil {
		if wxcrypto.CheckMsgSignature(q.msgSignature, s.Token, q.timestamp, q.nonce, q.echostr) != nil {
			s.reject(w, r, http.StatusForbidden, reasonBadMsgSig)
			return
		}
		if !s.checkTimestamp(q.ts) {
			s.reject(w, r, http.StatusForbidden, reasonStale)
			return
		}
		msg, appID, err := s.cfg.cipher.DecryptBytes([]byte(q.echostr))
		if err != nil {
			s.reject(w, r, http.StatusBadRequest, reasonCiphertext)
			return
		}
		if !wxcrypto.Equal(appID, s.AppID) {
			s.reject(w, r, http.StatusForbidden, reasonAppID)
			return
		}
		echo = string(msg)
	} else {
		if q.signature == "" {
			s.reject(w, r, http.StatusBadRequest, reasonNoSignature)
			return
		}
		if wxcrypto.CheckSignature(q.signature, s.Token, q.timestamp, q.nonce) != nil {
			s.reject(w, r, http.StatusForbidden, reasonBadSignature)
			return
		}
		if !s.checkTimestamp(q.ts) {
			s.reject(w, r, http.StatusForbidden, reasonStale)
			return
		}
	}
	h := w.Header()
	h["Content-Type"] = textContentType
	h["X-Content-Type-Options"] = noSniff
	w.Write([]byte(echo))
}
