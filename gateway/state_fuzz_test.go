package gateway

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// fuzzStateKey is the signing key of the state fuzz targets.
var fuzzStateKey = []byte("fuzz-state-key-of-thirty-two-b!!")

// FuzzStateVerify feeds any state to verify, as /oauth/callback does with
// the query parameter. It must never panic, must refuse what is longer
// than twice WeChat's limit, and whatever it accepts must be a state this
// signer issued: signing the decoded content again gives a state that
// verifies to the same content.
func FuzzStateVerify(f *testing.F) {
	s := stateSigner{key: fuzzStateKey}
	exp := time.Unix(1_900_000_000, 0)
	const app = "wx0123456789abcdef"
	for _, ret := range []string{"/", "/a?b=c", "/" + strings.Repeat("x", 100), "/\x00\xff"} {
		_, enc, err := s.newLoginState(app, ret, ret == "/", exp)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(app, enc, int64(1_800_000_000))
		f.Add(app, enc, exp.Unix())
		f.Add("wx00000000000000ff", enc, int64(1_800_000_000))
	}
	f.Add(app, "", int64(0))
	f.Add(app, ".", int64(0))
	f.Add(app, "AQ.AAAAAAAAAAAAAAAAAAAAAA", int64(0))
	f.Fuzz(func(t *testing.T, appID, state string, now int64) {
		st, err := s.verify(appID, state, time.Unix(now, 0))
		if err != nil {
			return
		}
		if len(state) > 2*maxStateLen {
			t.Fatalf("verify accepted a state of %d bytes", len(state))
		}
		if !time.Unix(now, 0).Before(st.Expires) {
			t.Fatalf("verify accepted a state that expired at %v (now %d)", st.Expires, now)
		}
		again, err := s.verify(appID, s.sign(appID, &st), time.Unix(now, 0))
		if err != nil || !sameState(again, st) {
			t.Fatalf("re-signed state = %+v, %v; want %+v", again, err, st)
		}
	})
}

// FuzzStateRoundTrip signs any content, checks that verify returns it,
// and that changing any one byte of the state makes verify refuse it. The
// one exception is the last character of the MAC, whose low bits
// base64url ignores (non-strict decoding): a change there that decodes to
// the same MAC bytes is the same state.
func FuzzStateRoundTrip(f *testing.F) {
	f.Add("wx0123456789abcdef", "/a?b=c", true, false, uint32(1_900_000_000), []byte("0123456789ab"), 0, byte('x'))
	f.Add("wx0123456789abcdef", "", false, true, uint32(1), []byte{}, 5, byte('.'))
	f.Add("", "/\x00\xff中文", true, false, uint32(1<<32-1), []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), 1000, byte(0))
	f.Fuzz(func(t *testing.T, appID, ret string, userInfo, stored bool, expires uint32, nonce []byte, pos int, b byte) {
		if expires == 0 {
			expires = 1
		}
		s := stateSigner{key: fuzzStateKey}
		st := loginState{UserInfo: userInfo, Stored: stored, Expires: time.Unix(int64(expires), 0), Return: ret}
		if stored {
			st.Return = ""
		}
		copy(st.Nonce[:], nonce)
		enc := s.sign(appID, &st)
		now := st.Expires.Add(-time.Second)
		got, err := s.verify(appID, enc, now)
		if len(enc) > 2*maxStateLen {
			if err == nil {
				t.Fatalf("verify accepted a state of %d bytes", len(enc))
			}
			return
		}
		if err != nil || !sameState(got, st) {
			t.Fatalf("verify(sign(%+v)) = %+v, %v", st, got, err)
		}
		if _, err := s.verify(appID, enc, st.Expires); err == nil {
			t.Fatal("verify accepted a state at its expiry")
		}
		if _, err := s.verify(appID+"x", enc, now); err == nil {
			t.Fatal("verify accepted a state issued for another app")
		}

		if pos < 0 {
			pos = -pos
		}
		pos %= len(enc)
		if enc[pos] == b {
			b ^= 1
		}
		tampered := enc[:pos] + string(b) + enc[pos+1:]
		tst, err := s.verify(appID, tampered, now)
		if err != nil {
			return
		}
		dot := strings.IndexByte(enc, '.')
		want, _ := base64.RawURLEncoding.DecodeString(enc[dot+1:])
		gotMAC, _ := base64.RawURLEncoding.DecodeString(tampered[dot+1:])
		if pos != len(enc)-1 || string(gotMAC) != string(want) || !sameState(tst, st) {
			t.Fatalf("verify accepted %q, %q with byte %d changed", tampered, enc, pos)
		}
	})
}

// sameState compares the signed content of two states.
func sameState(a, b loginState) bool {
	return a.UserInfo == b.UserInfo && a.Stored == b.Stored && a.Expires.Equal(b.Expires) &&
		a.Nonce == b.Nonce && a.Return == b.Return
}
