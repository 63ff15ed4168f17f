package wxcrypto

import (
	"encoding/base64"
	"errors"
	"testing"
)

// FuzzDecrypt feeds arbitrary ciphertexts to Decrypt under every key of the
// msg_crypt corpus. Decrypt must never panic, must fail with one of the
// package's sentinels, and whatever it accepts must survive a round trip.
func FuzzDecrypt(f *testing.F) {
	vs := msgCryptVectors(f)
	ciphers := make([]*Cipher, len(vs))
	for i, v := range vs {
		c, err := NewCipher(v.EncodingAESKey, v.AppID)
		if err != nil {
			f.Fatal(err)
		}
		ciphers[i] = c
		raw, err := base64.StdEncoding.DecodeString(v.Encrypt)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), raw, false)
		f.Add(uint8(i), []byte(v.Encrypt), true)
	}
	f.Add(uint8(0), []byte{}, false)
	f.Add(uint8(0), []byte("===="), true)
	f.Fuzz(func(t *testing.T, which uint8, data []byte, isText bool) {
		c := ciphers[int(which)%len(ciphers)]
		text := string(data)
		if !isText {
			text = base64.StdEncoding.EncodeToString(data)
		}
		msg, err := c.Decrypt(text)
		if err != nil {
			if !errors.Is(err, ErrInvalidCiphertext) && !errors.Is(err, ErrInvalidPadding) && !errors.Is(err, ErrInvalidAppID) {
				t.Fatalf("Decrypt error %v is not a package sentinel", err)
			}
			return
		}
		enc, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		back, err := c.Decrypt(enc)
		if err != nil || string(back) != string(msg) {
			t.Fatalf("round trip of an accepted message = %q, %v; want %q", back, err, msg)
		}
	})
}
