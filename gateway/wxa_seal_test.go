package gateway

import (
	"bytes"
	"testing"
)

// TestSealSessionKey: a sealed session_key opens with its token, app and
// user only, and any change to the sealed bytes is refused.
func TestSealSessionKey(t *testing.T) {
	const tok, app, user, key = "Wwf1Q1WEIREG5i901sEYQ8SxzkN_mT-9I4kgEbWB41M", "wx5a1b2c3d4e5f6a7b", "oVmRU7kMjJEn2PHWYsenpvAjxQ5t", "HyVFkGl5F5OQWJZZaNzBBg=="
	sealed, err := sealSessionKey(tok, app, user, key)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(key)) || len(sealed) != 1+12+len(key)+16 {
		t.Fatalf("sealed = %x (%d bytes), want 1+12+%d+16 bytes without the key in clear", sealed, len(sealed), len(key))
	}
	if got, err := openSessionKey(tok, app, user, sealed); err != nil || got != key {
		t.Fatalf("openSessionKey = %q, %v; want the key", got, err)
	}
	again, _ := sealSessionKey(tok, app, user, key)
	if bytes.Equal(again, sealed) {
		t.Errorf("two seals of one key are equal: the nonce is not random")
	}
	for _, tc := range []struct {
		name           string
		tok, app, user string
		sealed         []byte
	}{
		{"another token", tok + "x", app, user, sealed},
		{"another app", tok, "wx7b6a5f4e3d2c1b0a", user, sealed},
		{"another user", tok, app, user + "x", sealed},
		{"tampered", tok, app, user, flip(sealed, len(sealed)-1)},
		{"tampered nonce", tok, app, user, flip(sealed, 1)},
		{"other version", tok, app, user, flip(sealed, 0)},
		{"truncated", tok, app, user, sealed[:20]},
		{"empty", tok, app, user, nil},
	} {
		if got, err := openSessionKey(tc.tok, tc.app, tc.user, tc.sealed); err != errSealedKey || got != "" {
			t.Errorf("%s: openSessionKey = %q, %v; want errSealedKey", tc.name, got, err)
		}
	}
}

// flip returns a copy of b with byte i changed.
func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}
