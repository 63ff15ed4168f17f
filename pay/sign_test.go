package pay

import (
	"errors"
	"testing"
)

func TestSignDefaults(t *testing.T) {
	t.Parallel()
	p := map[string]string{"b": "2", "a": "1", "sign": "X", "c": "", "A": "0"}
	if got, want := SignString(p, "k"), "A=0&a=1&b=2&key=k"; got != want {
		t.Errorf("SignString = %q, want %q (byte order, sign and empty values dropped)", got, want)
	}
	md5Sign, err := Sign(p, "k", SignTypeMD5)
	if err != nil || md5Sign != wireSign(p, "k", SignTypeMD5) {
		t.Errorf("Sign(MD5) = %s, %v; want %s", md5Sign, err, wireSign(p, "k", SignTypeMD5))
	}
	if got, err := Sign(p, "k", ""); err != nil || got != md5Sign {
		t.Errorf(`Sign(signType "") = %s, %v; want the MD5 sign %s`, got, err, md5Sign)
	}
	if len(md5Sign) != 32 {
		t.Errorf("MD5 sign %s: want 32 hex characters", md5Sign)
	}
	if h, err := Sign(p, "k", SignTypeHMACSHA256); err != nil || len(h) != 64 || h != wireSign(p, "k", SignTypeHMACSHA256) {
		t.Errorf("Sign(HMAC-SHA256) = %s, %v", h, err)
	}
	if _, err := Sign(p, "k", "RSA"); !errors.Is(err, ErrInvalidSignType) {
		t.Errorf("Sign(RSA) = %v, want ErrInvalidSignType", err)
	}
}
