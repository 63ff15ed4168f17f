package gateway

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestStateSigner(t *testing.T) {
	t.Parallel()
	s := stateSigner{key: []byte("0123456789abcdef0123456789abcdef")}
	now := time.Unix(1_800_000_000, 0)
	exp := now.Add(10 * time.Minute)
	const app = "wx0123456789abcdef"

	for _, tc := range []struct {
		name       string
		ret        string
		userInfo   bool
		wantStored bool
	}{
		{"short path in the state", "/a?b=c", true, false},
		{"root", "/", false, false},
		{"long path kept server-side", "/" + strings.Repeat("x", 100), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, enc, err := s.newLoginState(app, tc.ret, tc.userInfo, exp)
			if err != nil {
				t.Fatal(err)
			}
			if len(enc) > maxStateLen {
				t.Errorf("state is %d bytes, want at most %d", len(enc), maxStateLen)
			}
			if strings.Trim(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") != "" {
				t.Errorf("state %q has characters outside base64url and '.'", enc)
			}
			if st.Stored != tc.wantStored {
				t.Errorf("Stored = %v, want %v", st.Stored, tc.wantStored)
			}
			got, err := s.verify(app, enc, now)
			if err != nil {
				t.Fatalf("verify = %v", err)
			}
			wantRet := tc.ret
			if tc.wantStored {
				wantRet = ""
			}
			if got.Return != wantRet || got.UserInfo != tc.userInfo || got.Nonce != st.Nonce || !got.Expires.Equal(exp) || got.Stored != tc.wantStored {
				t.Errorf("verify = %+v, want return %q userinfo %v nonce %x expires %v", got, wantRet, tc.userInfo, st.Nonce, exp)
			}
		})
	}

	_, enc, err := s.newLoginState(app, "/x", false, exp)
	if err != nil {
		t.Fatal(err)
	}
	other := stateSigner{key: []byte("another key of thirty-two bytes!")}
	for _, tc := range []struct {
		name  string
		app   string
		state string
		at    time.Time
		s     stateSigner
		want  error
	}{
		{"expired", app, enc, exp, s, errStateExpired},
		{"other app", "wx00000000000000ff", enc, now, s, errStateSignature},
		{"other key", app, enc, now, other, errStateSignature},
		{"no dot", app, strings.ReplaceAll(enc, ".", ""), now, s, errStateMalformed},
		{"empty", app, "", now, s, errStateMalformed},
		{"truncated MAC", app, enc[:len(enc)-3], now, s, errStateMalformed},
		{"huge", app, strings.Repeat("A", 1000) + ".x", now, s, errStateMalformed},
		{"version 1 (no browser binding)", app, resignedAs(t, s, app, enc, 1), now, s, errStateVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.s.verify(tc.app, tc.state, tc.at); !errors.Is(err, tc.want) {
				t.Errorf("verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// resignedAs returns state with its version byte set to v, signed again
// with s: a well-signed state of another format.
func resignedAs(t *testing.T, s stateSigner, appID, state string, v byte) string {
	t.Helper()
	payload, _, _ := strings.Cut(state, ".")
	p, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	p[0] = v
	enc := base64.RawURLEncoding.EncodeToString(p)
	return enc + "." + base64.RawURLEncoding.EncodeToString(s.mac(appID, enc))
}

// TestStateBinding: the state's nonce commits to the browser secret that
// newLoginState draws, and to nothing else.
func TestStateBinding(t *testing.T) {
	t.Parallel()
	s := stateSigner{key: []byte("0123456789abcdef0123456789abcdef")}
	now := time.Unix(1_800_000_000, 0)
	const app = "wx0123456789abcdef"
	st, enc, err := s.newLoginState(app, "/", false, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := s.newLoginState(app, "/", false, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if st.Secret == other.Secret || st.Nonce == other.Nonce {
		t.Fatal("two logins drew the same secret or nonce")
	}
	got, err := s.verify(app, enc, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != ([stateSecretLen]byte{}) {
		t.Error("verify returned a secret: the state must not carry it")
	}
	if strings.Contains(enc, base64.RawURLEncoding.EncodeToString(st.Secret[:])) {
		t.Error("the state carries the browser secret")
	}
	secret := base64.RawURLEncoding.EncodeToString(st.Secret[:])
	for _, tc := range []struct {
		name, cookie string
		want         bool
	}{
		{"its secret", secret, true},
		{"another login's secret", base64.RawURLEncoding.EncodeToString(other.Secret[:]), false},
		{"empty", "", false},
		{"the nonce itself", st.nonceString(), false},
		{"not base64url", secret[:21] + "*", false},
		{"padded", secret + "==", false},
		{"truncated", secret[:20], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ok := got.boundTo(tc.cookie); ok != tc.want {
				t.Errorf("boundTo(%q) = %v, want %v", tc.cookie, ok, tc.want)
			}
		})
	}
}
