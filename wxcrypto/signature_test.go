package wxcrypto

import (
	"errors"
	"strings"
	"testing"
)

type signatureVector struct {
	vectorBase
	Kind      string `json:"kind"`
	Token     string `json:"token"`
	Timestamp string `json:"timestamp"`
	Nonce     string `json:"nonce"`
	Encrypt   string `json:"encrypt"`
	Signature string `json:"signature"`
}

func TestSignatureCorpus(t *testing.T) {
	t.Parallel()
	vs := loadVectors[signatureVector](t, "crypto/signature.json")
	kinds := map[string]int{}
	for _, v := range vs {
		kinds[v.Kind]++
		t.Run(v.name(), func(t *testing.T) {
			t.Parallel()
			var got string
			var checkErr error
			switch v.Kind {
			case "signature":
				got = Signature(v.Token, v.Timestamp, v.Nonce)
				checkErr = CheckSignature(v.Signature, v.Token, v.Timestamp, v.Nonce)
			case "msg_signature":
				got = MsgSignature(v.Token, v.Timestamp, v.Nonce, v.Encrypt)
				checkErr = CheckMsgSignature(v.Signature, v.Token, v.Timestamp, v.Nonce, v.Encrypt)
			default:
				t.Fatalf("unknown kind %q", v.Kind)
			}
			if v.isValid() {
				if got != v.Signature {
					t.Errorf("%s = %s, want %s", v.Kind, got, v.Signature)
				}
				if checkErr != nil {
					t.Errorf("Check %s = %v, want nil", v.Kind, checkErr)
				}
			} else {
				if got == v.Signature {
					t.Errorf("%s of a negative vector matches %s", v.Kind, v.Signature)
				}
				if !errors.Is(checkErr, ErrInvalidSignature) {
					t.Errorf("Check %s = %v, want ErrInvalidSignature", v.Kind, checkErr)
				}
			}
		})
	}
	if kinds["signature"] == 0 || kinds["msg_signature"] == 0 {
		t.Errorf("corpus kinds = %v, want both signature and msg_signature", kinds)
	}
}

func TestCheckSignatureRejects(t *testing.T) {
	t.Parallel()
	good := Signature("token", "1409304348", "xxxxxx")
	tests := []struct {
		name, sig string
	}{
		{"empty", ""},
		{"truncated", good[:len(good)-1]},
		{"longer", good + "0"},
		{"one hex digit changed", flipHex(good)},
		{"not hex", "zz" + good[2:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckSignature(tt.sig, "token", "1409304348", "xxxxxx"); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("CheckSignature(%q) = %v, want ErrInvalidSignature", tt.sig, err)
			}
			if err := CheckMsgSignature(tt.sig, "token", "1409304348", "xxxxxx", "enc"); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("CheckMsgSignature(%q) = %v, want ErrInvalidSignature", tt.sig, err)
			}
		})
	}
	// Upper-case hex is accepted (the value is the same digest).
	if err := CheckSignature(toUpper(good), "token", "1409304348", "xxxxxx"); err != nil {
		t.Errorf("CheckSignature(upper case) = %v, want nil", err)
	}
}

// TestSignatureOrderIndependent checks that the sort makes the argument
// order irrelevant, against SortedSHA1 as an independent formulation.
func TestSignatureOrderIndependent(t *testing.T) {
	t.Parallel()
	perms := [][3]string{
		{"a", "b", "c"}, {"a", "c", "b"}, {"b", "a", "c"},
		{"b", "c", "a"}, {"c", "a", "b"}, {"c", "b", "a"},
	}
	want := SortedSHA1("", "a", "b", "c")
	for _, p := range perms {
		if got := Signature(p[0], p[1], p[2]); got != want {
			t.Errorf("Signature%v = %s, want %s", p, got, want)
		}
	}
	if got, want := MsgSignature("d", "c", "b", "a"), SortedSHA1("", "a", "b", "c", "d"); got != want {
		t.Errorf("MsgSignature = %s, want %s", got, want)
	}
}

type sha1SortedVector struct {
	vectorBase
	Values    []string `json:"values"`
	Join      string   `json:"join"`
	Signature string   `json:"signature"`
}

func TestSortedSHA1Corpus(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors[sha1SortedVector](t, "crypto/sha1_sorted.json") {
		t.Run(v.name(), func(t *testing.T) {
			t.Parallel()
			in := append([]string(nil), v.Values...)
			got := SortedSHA1(v.Join, v.Values...)
			if v.isValid() && got != v.Signature {
				t.Errorf("SortedSHA1(%q, %q) = %s, want %s", v.Join, v.Values, got, v.Signature)
			}
			if !v.isValid() && got == v.Signature {
				t.Errorf("SortedSHA1 of a negative vector matches")
			}
			for i := range in {
				if in[i] != v.Values[i] {
					t.Fatalf("SortedSHA1 modified its input: %q", v.Values)
				}
			}
		})
	}
}

func flipHex(s string) string {
	b := []byte(s)
	if b[0] == '0' {
		b[0] = '1'
	} else {
		b[0] = '0'
	}
	return string(b)
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestAppendMsgSignature(t *testing.T) {
	for _, tc := range []struct{ token, ts, nonce, enc string }{
		{"pamtest", "1458300676", "260774613", "rTNFcsut4LfGuAFKEUVVpwcaCOTJzOd9twZdIW910jb3k+iicx2uvhttIZ3Qg9Qgty3BEF2xbOrz6boTfb30dMomcgrkTqdFPwnh"},
		{"", "", "", ""},
		{"b", "a", "c", "a"},
		{"zzz", "1", "0", strings.Repeat("Q", 3000)}, // longer than the stack buffer
	} {
		got := AppendMsgSignature([]byte("prefix:"), tc.token, tc.ts, tc.nonce, tc.enc)
		if want := "prefix:" + MsgSignature(tc.token, tc.ts, tc.nonce, tc.enc); string(got) != want {
			t.Errorf("AppendMsgSignature(%q, %q, %q, %d bytes) = %s, want %s", tc.token, tc.ts, tc.nonce, len(tc.enc), got, want)
		}
		if err := CheckMsgSignature(string(got[len("prefix:"):]), tc.token, tc.ts, tc.nonce, tc.enc); err != nil {
			t.Errorf("CheckMsgSignature of the appended value: %v", err)
		}
	}
	buf := make([]byte, 0, 40)
	if n := testing.AllocsPerRun(100, func() { buf = AppendMsgSignature(buf[:0], "t", "1", "2", "enc") }); n != 0 {
		t.Errorf("AppendMsgSignature allocates %v times with room in dst, want 0", n)
	}
}
