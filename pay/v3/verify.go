package payv3

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// DefaultTolerance is how far Wechatpay-Timestamp may be from our clock, on
// replies and notifies, unless configured otherwise.
const DefaultTolerance = 5 * time.Minute

// The headers of a signed reply or notify.
const (
	HeaderSerial        = "Wechatpay-Serial"
	HeaderSignature     = "Wechatpay-Signature"
	HeaderTimestamp     = "Wechatpay-Timestamp"
	HeaderNonce         = "Wechatpay-Nonce"
	HeaderSignatureType = "Wechatpay-Signature-Type"
)

// verifySigned checks the Wechatpay-* headers of a reply or a notify over
// body: all present, the timestamp within tol of now, the signature made by
// the key of Wechatpay-Serial (refreshing v's keys once on an unknown
// serial). It returns the serial that verified, or a *VerifyError.
//
// WeChat sends "signature probes" whose Wechatpay-Signature starts with
// WECHATPAY/SIGNTEST/ to check that merchants verify; they fail here as any
// other bad signature does.
func verifySigned(ctx context.Context, v *Verifier, h http.Header, body []byte, now time.Time, tol time.Duration) (string, error) {
	serial, sig, ts, nonce := h.Get(HeaderSerial), h.Get(HeaderSignature), h.Get(HeaderTimestamp), h.Get(HeaderNonce)
	if serial == "" || sig == "" || ts == "" || nonce == "" {
		return "", &VerifyError{Serial: serial, Reason: "missing Wechatpay-Serial, -Signature, -Timestamp or -Nonce"}
	}
	if st := h.Get(HeaderSignatureType); st != "" && st != AuthorizationSchema {
		return "", &VerifyError{Serial: serial, Reason: fmt.Sprintf("Wechatpay-Signature-Type %q, want %s", st, AuthorizationSchema)}
	}
	if err := checkTimestamp(ts, now, tol); err != nil {
		return "", &VerifyError{Serial: serial, Reason: "Wechatpay-Timestamp " + strconv.Quote(ts), Err: err}
	}
	if v == nil {
		return "", &VerifyError{Serial: serial, Reason: "no Verifier", Err: ErrUnknownSerial}
	}
	if err := v.Verify(ctx, serial, responseMessage(ts, nonce, body), sig); err != nil {
		return "", err
	}
	return serial, nil
}

// checkTimestamp parses ts (Unix seconds, decimal) and checks that it is
// within tol of now.
func checkTimestamp(ts string, now time.Time, tol time.Duration) error {
	if tol <= 0 {
		tol = DefaultTolerance
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > 12 {
		return fmt.Errorf("%w: not Unix seconds", ErrTimestamp)
	}
	n, d := now.Unix(), int64(tol/time.Second)
	if t < n-d || t > n+d {
		return fmt.Errorf("%w: %d s from now, tolerance %v", ErrTimestamp, t-n, tol)
	}
	return nil
}
