package gateway

import (
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.s.verify(tc.app, tc.state, tc.at); !errors.Is(err, tc.want) {
				t.Errorf("verify = %v, want %v", err, tc.want)
			}
		})
	}
}
