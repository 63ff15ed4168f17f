package webhook

import (
	"strings"
	"testing"

	"github.com/wxkit/wxkit/wxcrypto"
)

// TestSignerMatchesWxcrypto pins the allocation-free signature helpers to
// wxcrypto's reference implementation.
func TestSignerMatchesWxcrypto(t *testing.T) {
	var s signer
	for _, tc := range []struct{ token, ts, nonce, enc string }{
		{"pamtest", "1458300676", "260774613", "rTNFcsut4LfGuAFKEUVVpwcaCOTJzOd9twZdIW910jb3k+iicx2uvhttIZ3Qg9Qgty3BEF2xbOrz6boTfb30dMomcgrkTqdFPwnh"},
		{"", "", "", ""},
		{"b", "a", "c", "a"},
		{"zzz", "1", "0", strings.Repeat("Q", 2000)},
	} {
		if got, want := string(s.signature(tc.token, tc.ts, tc.nonce)), wxcrypto.Signature(tc.token, tc.ts, tc.nonce); got != want {
			t.Errorf("signature(%q,%q,%q) = %s, want %s", tc.token, tc.ts, tc.nonce, got, want)
		}
		if got, want := string(s.msgSignature(tc.token, tc.ts, tc.nonce, tc.enc)), wxcrypto.MsgSignature(tc.token, tc.ts, tc.nonce, tc.enc); got != want {
			t.Errorf("msgSignature = %s, want %s", got, want)
		}
	}
}

func TestEqualHex(t *testing.T) {
	want := []byte("0a1b2c3d4e5f")
	for _, tc := range []struct {
		got string
		eq  bool
	}{
		{"0a1b2c3d4e5f", true},
		{"0A1B2C3D4E5F", true},
		{"0a1b2c3d4e5e", false},
		{"0a1b2c3d4e5", false},
		{"0a1b2c3d4e5f0", false},
		{"0a1b2c3d4e5G", false},
		{"0a1b2c3d4e5\x06", false},
		{"", false},
	} {
		if got := equalHex(tc.got, want); got != tc.eq {
			t.Errorf("equalHex(%q) = %v, want %v", tc.got, got, tc.eq)
		}
	}
}
