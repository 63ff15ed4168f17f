package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/wxcrypto"
)

// pushBuf holds the reusable buffers of one POST.
type pushBuf struct {
	body []byte   // request body
	out  []byte   // plaintext reply XML
	enc  []byte   // base64 ciphertext of the reply
	env  []byte   // reply envelope
	ts   []byte   // reply timestamp digits
	rnd  [26]byte // 16 random prefix bytes + 10 for the nonce
	non  [10]byte // reply nonce digits
	sig  []byte   // reply msg_signature (40 hex digits)
	json bool     // the push is JSON (Server.Format): answered "success"
}

var bufPool = sync.Pool{New: func() any { return new(pushBuf) }}

// maxPooled is the largest buffer kept in the pool; bigger ones (large
// bodies) are dropped so the pool does not pin memory.
const maxPooled = 64 << 10

func (pb *pushBuf) release() {
	pb.json = false
	if cap(pb.body) > maxPooled {
		pb.body = nil
	}
	if cap(pb.out) > maxPooled || cap(pb.enc) > 2*maxPooled || cap(pb.env) > 2*maxPooled {
		pb.out, pb.enc, pb.env = nil, nil, nil
	}
	bufPool.Put(pb)
}

// servePush answers a POST: verify, decrypt, parse, dedup, handle, record,
// render, encrypt, write. It returns how it answered (for the Observer).
func (s *Server) servePush(w http.ResponseWriter, r *http.Request) Outcome {
	pb := bufPool.Get().(*pushBuf)
	defer pb.release()

	m, encrypted, ok := s.readPush(w, r, pb)
	if !ok {
		return OutcomeRejected
	}

	ctx, cancel := context.WithDeadline(r.Context(), time.Now().Add(s.cfg.timeout))
	defer cancel()

	if !encrypted {
		// The signature does not cover a plaintext body (replay.go).
		if outcome, done := s.checkReplay(ctx, w, r, m); done {
			return outcome
		}
	}

	var key string
	if s.Dedup != nil {
		key = m.DedupKey()
		cl, err := s.Dedup.Claim(ctx, key, s.cfg.leaseTTL)
		if err == nil && cl.State == ClaimPending {
			cl, err = s.waitClaim(ctx, s.Dedup, key)
			if err != nil && ctx.Err() != nil {
				// The first delivery is still running and our own deadline
				// has come: "success" now; that delivery answers the user.
				s.cfg.logger.LogAttrs(r.Context(), slog.LevelWarn, "webhook: duplicate delivery still in flight at deadline; answered success",
					slog.String("dedup_key", key))
				s.writeReply(w, pb, nil, false)
				return OutcomeDuplicate
			}
		}
		if err != nil {
			s.cfg.logger.LogAttrs(r.Context(), slog.LevelError, "webhook: dedup store failed",
				slog.String("dedup_key", key), slog.String("error", err.Error()))
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return OutcomeError
		}
		if cl.State == ClaimDone {
			s.cfg.logger.LogAttrs(r.Context(), slog.LevelDebug, "webhook: duplicate delivery answered from dedup store",
				slog.String("dedup_key", key))
			if pb.json {
				cl.Reply = nil
			}
			s.writeReply(w, pb, cl.Reply, encrypted)
			return OutcomeDuplicate
		}
	}

	var plain []byte
	outcome := OutcomeReplied
	reply, late := s.call(ctx, m)
	if late {
		outcome = OutcomeLate
	}
	if reply != nil && pb.json {
		s.cfg.logger.LogAttrs(r.Context(), slog.LevelWarn, "webhook: reply to a JSON push dropped; answered success",
			slog.String("msg_type", string(m.MsgType)), slog.String("reply_type", string(reply.ReplyType())))
	} else if reply != nil {
		out, err := message.AppendReply(pb.out[:0], m.FromUserName, m.ToUserName, s.now().Unix(), reply)
		if err != nil {
			s.cfg.logger.LogAttrs(r.Context(), slog.LevelError, "webhook: rendering reply failed; answered success",
				slog.String("msg_type", string(m.MsgType)), slog.String("error", err.Error()))
		} else {
			pb.out, plain = out, out
		}
	}

	// The request context ends when the client gives up; the answer must
	// still become durable so that WeChat's retry finds it.
	sctx := r.Context()
	if sctx.Err() != nil {
		sctx = context.WithoutCancel(sctx)
	}
	if s.Recorder != nil {
		var err error
		if or, ok := s.Recorder.(OnceRecorder); ok {
			var recorded []byte
			var dup bool
			if recorded, dup, err = or.RecordOnce(sctx, m, plain); err == nil && dup {
				s.cfg.logger.LogAttrs(r.Context(), slog.LevelDebug, "webhook: message recorded by another delivery; answered its reply",
					slog.String("dedup_key", key))
				if !pb.json {
					plain = recorded
				}
				outcome = OutcomeDuplicate
			}
		} else {
			err = s.Recorder.Record(sctx, m, plain)
		}
		if err != nil {
			s.cfg.logger.LogAttrs(r.Context(), slog.LevelError, "webhook: recording message failed; answered 500 so that WeChat retries",
				slog.String("msg_type", string(m.MsgType)), slog.String("error", err.Error()))
			if key != "" {
				if err := s.Dedup.Release(context.WithoutCancel(sctx), key); err != nil {
					s.cfg.logger.LogAttrs(r.Context(), slog.LevelError, "webhook: releasing dedup claim failed",
						slog.String("dedup_key", key), slog.String("error", err.Error()))
				}
			}
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return OutcomeError
		}
	}
	if key != "" {
		if err := s.Dedup.Complete(sctx, key, plain, s.cfg.dedupTTL); err != nil {
			s.cfg.logger.LogAttrs(r.Context(), slog.LevelError, "webhook: completing dedup key failed",
				slog.String("dedup_key", key), slog.String("error", err.Error()))
		}
	}
	s.writeReply(w, pb, plain, encrypted)
	return outcome
}

// readPush validates the request and returns the parsed message, or writes
// the rejection and returns ok == false.
func (s *Server) readPush(w http.ResponseWriter, r *http.Request, pb *pushBuf) (m *message.Message, encrypted, ok bool) {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		s.reject(w, r, http.StatusBadRequest, reasonQuery)
		return nil, false, false
	}
	switch q.encryptType {
	case "aes":
		encrypted = true
	case "", "raw":
		// WeCom sends msg_signature without encrypt_type.
		encrypted = q.msgSignature != ""
	default:
		s.reject(w, r, http.StatusBadRequest, reasonEncryptType)
		return nil, false, false
	}
	switch {
	case !q.parseTimestamp():
		s.reject(w, r, http.StatusBadRequest, reasonNoTimestamp)
		return nil, false, false
	case q.nonce == "":
		s.reject(w, r, http.StatusBadRequest, reasonNoNonce)
		return nil, false, false
	case encrypted && s.cfg.cipher == nil:
		s.reject(w, r, http.StatusBadRequest, reasonNoKey)
		return nil, false, false
	case encrypted && q.msgSignature == "":
		s.reject(w, r, http.StatusBadRequest, reasonNoMsgSignature)
		return nil, false, false
	case !encrypted && s.cfg.mode == ModeSafe:
		s.reject(w, r, http.StatusForbidden, reasonPlainInSafe)
		return nil, false, false
	case !encrypted && q.signature == "":
		s.reject(w, r, http.StatusBadRequest, reasonNoSignature)
		return nil, false, false
	}

	if !encrypted {
		// Authenticate before reading the body.
		if wxcrypto.CheckSignature(q.signature, s.Token, q.timestamp, q.nonce) != nil {
			s.reject(w, r, http.StatusForbidden, reasonBadSignature)
			return nil, false, false
		}
		if !s.checkTimestamp(q.ts) {
			s.reject(w, r, http.StatusForbidden, reasonStale)
			return nil, false, false
		}
	}

	body, status, reason := s.readBody(w, r, pb.body[:0])
	pb.body = body[:0]
	if status != 0 {
		s.reject(w, r, status, reason)
		return nil, false, false
	}
	if s.cfg.json && isJSON(s.cfg.format, body) {
		pb.json = true
		m, ok = s.readJSON(w, r, &q, body, encrypted)
		return m, encrypted, ok
	}

	var plain []byte
	if !encrypted {
		// The Message may alias its input (Raw) and outlive the request
		// (late replies): give it its own copy, not the pooled buffer.
		plain = bytes.Clone(body)
	} else {
		enc, found := encryptElement(body)
		if !found {
			s.reject(w, r, http.StatusBadRequest, reasonNoEncrypt)
			return nil, false, false
		}
		if wxcrypto.CheckMsgSignature(q.msgSignature, s.Token, q.timestamp, q.nonce, bstr(enc)) != nil {
			s.reject(w, r, http.StatusForbidden, reasonBadMsgSig)
			return nil, false, false
		}
		if !s.checkTimestamp(q.ts) {
			s.reject(w, r, http.StatusForbidden, reasonStale)
			return nil, false, false
		}
		// The envelope (in compatible mode, with the plaintext fields) is
		// held to the same encoding and characters as the message inside.
		if err := message.CheckDocument(body); err != nil {
			s.reject(w, r, http.StatusBadRequest, xmlReason(err))
			return nil, false, false
		}
		msg, appID, err := s.cfg.cipher.DecryptBytes(enc)
		if err != nil {
			s.reject(w, r, http.StatusBadRequest, reasonCiphertext)
			return nil, false, false
		}
		if !wxcrypto.Equal(appID, s.AppID) {
			s.reject(w, r, http.StatusForbidden, reasonAppID)
			return nil, false, false
		}
		plain = msg // freshly allocated by DecryptBytes
	}
	m, err = message.Parse(plain)
	if err != nil {
		s.reject(w, r, http.StatusBadRequest, xmlReason(err))
		return nil, false, false
	}
	return m, encrypted, true
}

// Rejection reasons for XML that message.Parse or message.CheckDocument
// refuses, more precise than reasonXML.
const (
	reasonXMLChar     = "malformed message XML: character not allowed in XML"
	reasonXMLEncoding = "malformed message XML: encoding other than UTF-8"
	reasonXMLMissing  = "malformed message XML: missing element "
)

// xmlReason names why the body or the message was refused, from a fixed
// set of phrases (the error's own text may quote the input).
func xmlReason(err error) string {
	if mf, ok := errors.AsType[*message.MissingFieldError](err); ok {
		return reasonXMLMissing + "<" + mf.Field + ">"
	}
	switch {
	case errors.Is(err, message.ErrInvalidChar):
		return reasonXMLChar
	case errors.Is(err, message.ErrUnsupportedEncoding):
		return reasonXMLEncoding
	}
	return reasonXML
}

// readBody reads the capped body into dst, returning a status and reason
// on failure (0 on success).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, dst []byte) ([]byte, int, string) {
	if r.ContentLength > s.cfg.maxBody {
		return dst, http.StatusRequestEntityTooLarge, reasonTooLarge
	}
	if r.Body == nil || r.Body == http.NoBody {
		return dst, http.StatusBadRequest, reasonEmpty
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.maxBody)
	if n := r.ContentLength; n > 0 && int64(cap(dst)) < n+1 {
		dst = make([]byte, 0, n+1) // +1 to see EOF without growing
	} else if cap(dst) == 0 {
		dst = make([]byte, 0, 2048)
	}
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := body.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return dst, http.StatusRequestEntityTooLarge, reasonTooLarge
			}
			return dst, http.StatusBadRequest, reasonBody
		}
	}
	if len(bytes.TrimSpace(dst)) == 0 {
		return dst, http.StatusBadRequest, reasonEmpty
	}
	return dst, 0, ""
}

// waitClaim waits for the in-flight first delivery of key in st.
func (s *Server) waitClaim(ctx context.Context, st DedupStore, key string) (Claim, error) {
	if wt, ok := st.(DedupWaiter); ok {
		return wt.Wait(ctx, key, s.cfg.leaseTTL)
	}
	t := time.NewTicker(s.cfg.pollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return Claim{}, ctx.Err()
		case <-t.C:
		}
		c, err := st.Claim(ctx, key, s.cfg.leaseTTL)
		if err != nil || c.State != ClaimPending {
			return c, err
		}
	}
}

// writeReply writes "success" for an empty reply, the plaintext XML for a
// plaintext push, and a freshly encrypted and signed envelope for an
// encrypted one.
func (s *Server) writeReply(w http.ResponseWriter, pb *pushBuf, plain []byte, encrypted bool) {
	h := w.Header()
	if len(plain) == 0 {
		h["Content-Type"] = textContentType
		w.Write(successBody)
		return
	}
	if !encrypted {
		h["Content-Type"] = xmlContentType
		w.Write(plain)
		return
	}
	if _, err := rand.Read(pb.rnd[:]); err != nil {
		// crypto/rand does not fail on supported platforms; never answer
		// with a predictable envelope.
		s.cfg.logger.Error("webhook: crypto/rand failed; answered success", slog.String("error", err.Error()))
		h["Content-Type"] = textContentType
		w.Write(successBody)
		return
	}
	for i, b := range pb.rnd[16:] {
		pb.non[i] = '0' + b%10
	}
	if pb.non[0] == '0' {
		pb.non[0] = '1'
	}
	pb.enc = s.cfg.cipher.AppendEncrypt(pb.enc[:0], pb.rnd[:16], plain)
	pb.ts = strconv.AppendInt(pb.ts[:0], s.now().Unix(), 10)
	enc, ts, nonce := bstr(pb.enc), bstr(pb.ts), bstr(pb.non[:])
	pb.sig = wxcrypto.AppendMsgSignature(pb.sig[:0], s.Token, ts, nonce, enc)
	sig := bstr(pb.sig)
	pb.env = message.AppendEnvelope(pb.env[:0], enc, sig, ts, nonce)
	h["Content-Type"] = xmlContentType
	w.Write(pb.env)
}

// bstr views b as a string without copying; b must not change while the
// string is in use.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// Call states.
const (
	callRunning int32 = iota
	callFinished
	callAbandoned
)

// call is one Handler invocation, run on its own goroutine so that the
// Server can answer at the deadline while the Handler goes on. It returns to
// callPool through whoever touches it last: the ServeHTTP goroutine when the
// Handler finished in time, the Handler goroutine when it was abandoned.
type call struct {
	s     *Server
	ctx   context.Context
	m     *message.Message
	reply message.Reply
	err   error
	state atomic.Int32
	// done (capacity 1) is signalled when the Handler finished in time. It
	// is made afresh for every call rather than pooled: a channel must not
	// outlive a testing/synctest bubble.
	done chan struct{}
}

var callPool = sync.Pool{New: func() any { return new(call) }}

// errPanic marks a Handler panic; the value and stack are in the log line.
var errPanic = errors.New("webhook: handler panicked")

func (c *call) run() {
	c.reply, c.err = c.invoke()
	if c.state.CompareAndSwap(callRunning, callFinished) {
		c.done <- struct{}{}
		return
	}
	c.s.late(c)
	c.put()
}

func (c *call) invoke() (r message.Reply, err error) {
	defer func() {
		if v := recover(); v != nil {
			c.s.cfg.logger.LogAttrs(c.ctx, slog.LevelError, "webhook: handler panicked; answered success",
				slog.String("panic", fmt.Sprint(v)),
				slog.String("msg_type", string(c.m.MsgType)),
				slog.String("event", string(c.m.Event)),
				slog.String("stack", string(debug.Stack())))
			r, err = nil, errPanic
		}
	}()
	return c.s.cfg.handler.ServeMessage(c.ctx, c.m)
}

func (c *call) put() {
	c.s, c.ctx, c.m, c.reply, c.err, c.done = nil, nil, nil, nil, nil, nil
	c.state.Store(callRunning)
	callPool.Put(c)
}

// call runs the Handler under ctx (the request's context with the
// deadline) and returns its reply, or nil when it failed, panicked or missed
// the deadline (late is then true, and the late reply goes to LateReply
// from the Handler's goroutine). An ImmediateHandler that answers at once is
// called on this goroutine.
func (s *Server) call(ctx context.Context, m *message.Message) (reply message.Reply, late bool) {
	if ih := s.cfg.immediate; ih != nil {
		if r, ok, err := s.immediate(ctx, ih, m); ok {
			return s.outcome(ctx, m, r, err), false
		}
	}
	c := callPool.Get().(*call)
	c.s, c.ctx, c.m, c.done = s, ctx, m, make(chan struct{}, 1)
	go c.run()
	select {
	case <-c.done:
	case <-ctx.Done():
		if c.state.CompareAndSwap(callRunning, callAbandoned) {
			s.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "webhook: handler missed the deadline; answered success",
				slog.String("msg_type", string(m.MsgType)),
				slog.String("event", string(m.Event)),
				slog.Duration("timeout", s.cfg.timeout))
			return nil, true
		}
		<-c.done
	}
	reply, err := c.reply, c.err
	c.put()
	return s.outcome(ctx, m, reply, err), false
}

// outcome is the reply to write for a Handler's answer: nil after an error
// (logged, unless it was a panic, logged already).
func (s *Server) outcome(ctx context.Context, m *message.Message, reply message.Reply, err error) message.Reply {
	if err != nil {
		if err != errPanic {
			s.cfg.logger.LogAttrs(ctx, slog.LevelError, "webhook: handler failed; answered success",
				slog.String("msg_type", string(m.MsgType)),
				slog.String("event", string(m.Event)),
				slog.String("error", err.Error()))
		}
		return nil
	}
	return reply
}

// immediate asks h for an immediate answer; a panic is logged and answered
// "success" (errPanic), as in ServeMessage.
func (s *Server) immediate(ctx context.Context, h ImmediateHandler, m *message.Message) (r message.Reply, ok bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.cfg.logger.LogAttrs(ctx, slog.LevelError, "webhook: handler panicked; answered success",
				slog.String("panic", fmt.Sprint(v)),
				slog.String("msg_type", string(m.MsgType)),
				slog.String("event", string(m.Event)),
				slog.String("stack", string(debug.Stack())))
			r, ok, err = nil, true, errPanic
		}
	}()
	return h.ServeImmediate(m)
}

// late disposes of the outcome of a Handler that missed the deadline.
func (s *Server) late(c *call) {
	ctx := context.WithoutCancel(c.ctx)
	switch {
	case c.err == errPanic:
	case c.err != nil:
		s.cfg.logger.LogAttrs(ctx, slog.LevelError, "webhook: handler failed after the deadline",
			slog.String("msg_type", string(c.m.MsgType)),
			slog.String("event", string(c.m.Event)),
			slog.String("error", c.err.Error()))
	case c.reply == nil:
	case s.LateReply == nil:
		s.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "webhook: late reply dropped (no LateReply configured)",
			slog.String("msg_type", string(c.m.MsgType)),
			slog.String("reply_type", string(c.reply.ReplyType())))
	default:
		lctx, cancel := context.WithTimeout(ctx, LateReplyTimeout)
		defer cancel()
		if err := s.LateReply(lctx, c.m, c.reply); err != nil {
			s.cfg.logger.LogAttrs(ctx, slog.LevelError, "webhook: delivering late reply failed",
				slog.String("msg_type", string(c.m.MsgType)),
				slog.String("reply_type", string(c.reply.ReplyType())),
				slog.String("error", err.Error()))
		}
	}
}
