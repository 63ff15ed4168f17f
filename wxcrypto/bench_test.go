package wxcrypto

import "testing"

func BenchmarkSignature(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Signature("token", "1409304348", "1372623149")
	}
}

func BenchmarkMsgSignature(b *testing.B) {
	v := msgCryptVectors(b)[0]
	b.ReportAllocs()
	for b.Loop() {
		_ = MsgSignature(*v.Token, *v.Timestamp, *v.Nonce, v.Encrypt)
	}
}

func BenchmarkDecrypt(b *testing.B) {
	v := msgCryptVectors(b)[0]
	c, err := NewCipher(v.EncodingAESKey, v.AppID)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(v.Plaintext)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decrypt(v.Encrypt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendEncrypt(b *testing.B) {
	v := msgCryptVectors(b)[0]
	c, err := NewCipher(v.EncodingAESKey, v.AppID)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte(v.Plaintext)
	random := []byte(v.Random)
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		buf = c.AppendEncrypt(buf[:0], random, msg)
	}
}
