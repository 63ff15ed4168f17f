package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/wxkit/wxkit/message"
)

// The replay check of plaintext pushes.
//
// A plaintext push (plain mode, or a push without encrypt_type to a
// compat-mode Server) is authenticated by signature = SHA-1 of the Token,
// timestamp and nonce: the body is not covered. Whoever sees one push URL
// (a proxy log, a leaked access log) could otherwise POST any body under it
// while its timestamp is inside TimestampWindow, and have it handled,
// answered and recorded as if WeChat had sent it.
//
// So the Server remembers every signed (timestamp, nonce) it accepts, with
// the SHA-256 of the body that came with it, until the timestamp leaves the
// window (for DedupTTL when the window is off):
//
//   - a pair seen for the first time is recorded and the push proceeds;
//   - the same pair with the same body is a retry: it proceeds to dedup as
//     any repeated delivery and gets the first delivery's reply;
//   - the same pair with another body is refused 403 and logged ("timestamp
//     and nonce already used with another body"); the Handler never runs and
//     nothing is recorded.
//
// The record lives in the Server's Replay store (else its Dedup store)
// under the key "sig:" + the signature in lower-case hex, with the digest
// (hex) as the completed claim's reply: a store shared by several
// instances makes the check hold across them. The key is the signature rather than the
// timestamp and nonce themselves because the signature is what the Token
// authenticates: WeChat concatenates the sorted strings without a
// separator, so another split of the same characters between timestamp and
// nonce carries the same signature, and must count as the same pair. It also
// scopes the key to the account (the Token). A Server with neither keeps
// the pairs in a MemoryDedup of its own (bounded: oldest dropped first).
//
// Cost: a plaintext push that brings a new pair makes one Claim and one
// Complete more; a retry one Claim. Encrypted pushes (safe mode, and the
// encrypted pushes of compat mode) skip the check entirely:
// msg_signature covers the ciphertext, so a different body needs a new
// signature, which takes the Token. The plaintext copy that compat mode
// sends beside <Encrypt> is never used: the Server decrypts <Encrypt>.

// replayKeyPrefix starts the DedupStore key of a signed pair; message dedup
// keys start "msg:", "evt:" or "info:".
const replayKeyPrefix = "sig:"

// reasonReplay is the rejection reason of a forged body.
const reasonReplay = "timestamp and nonce already used with another body"

// replayStore returns the store of signed pairs.
func (s *Server) replayStore() DedupStore {
	switch {
	case s.Replay != nil:
		return s.Replay
	case s.Dedup != nil:
		return s.Dedup
	}
	return s.cfg.replayMemory
}

// replayKey returns the store key of a verified signature (40 hex digits,
// either case, as WeChat's check accepts both).
func replayKey(signature string) string {
	return replayKeyPrefix + strings.ToLower(signature)
}

// replayTTL is how long the pair of a push with timestamp ts must be
// remembered: until ts leaves the window (checkTimestamp accepts
// |now - ts| <= window), plus a second for rounding; DedupTTL when the
// window is off.
func (s *Server) replayTTL(ts int64) time.Duration {
	if s.cfg.window == 0 {
		return s.cfg.dedupTTL
	}
	return max(time.Unix(ts+s.cfg.window+1, 0).Sub(s.now()), time.Second)
}

// checkReplay records the signed pair of the plaintext push r (already
// verified by readPush, with body m.Raw), or compares m.Raw with the body
// recorded under it. When it returns done it has answered r: 403 for
// another body, 500 when the store fails.
func (s *Server) checkReplay(ctx context.Context, w http.ResponseWriter, r *http.Request, m *message.Message) (outcome Outcome, done bool) {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil || !q.parseTimestamp() || q.signature == "" {
		s.reject(w, r, http.StatusBadRequest, reasonQuery) // readPush accepted it: cannot happen
		return OutcomeRejected, true
	}
	sum := sha256.Sum256(m.Raw)
	digest := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(digest, sum[:])

	st, key := s.replayStore(), replayKey(q.signature)
	cl, err := st.Claim(ctx, key, s.cfg.leaseTTL)
	if err == nil && cl.State == ClaimPending {
		// Another delivery of the pair is between its Claim and Complete.
		cl, err = s.waitClaim(ctx, st, key)
	}
	if err == nil && cl.State == ClaimOwned {
		if err = st.Complete(ctx, key, digest, s.replayTTL(q.ts)); err != nil {
			if rerr := st.Release(context.WithoutCancel(ctx), key); rerr != nil {
				s.cfg.logger.LogAttrs(r.Context(), slog.LevelError, "webhook: releasing signature record failed",
					slog.String("error", rerr.Error()))
			}
		}
	}
	if err != nil {
		s.cfg.logger.LogAttrs(r.Context(), slog.LevelError, "webhook: recording the signature failed; answered 500 so that WeChat retries",
			slog.String("error", err.Error()))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return OutcomeError, true
	}
	if cl.State == ClaimDone && !bytes.Equal(cl.Reply, digest) {
		s.reject(w, r, http.StatusForbidden, reasonReplay)
		return OutcomeRejected, true
	}
	return 0, false
}
