package wxcrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/message"
)

type msgCryptVector struct {
	vectorBase
	Platform       string            `json:"platform"`
	Direction      string            `json:"direction"`
	Token          *string           `json:"token"`
	EncodingAESKey string            `json:"encoding_aes_key"`
	AppID          string            `json:"appid"`
	Timestamp      *string           `json:"timestamp"`
	Nonce          *string           `json:"nonce"`
	MsgSignature   *string           `json:"msg_signature"`
	Encrypt        string            `json:"encrypt"`
	Random         string            `json:"random"`
	Plaintext      string            `json:"plaintext"`
	ExpectFields   map[string]string `json:"expect_fields"`
	EnvelopeXML    *string           `json:"envelope_xml"`
}

func msgCryptVectors(t testing.TB) []msgCryptVector {
	return loadVectors[msgCryptVector](t, "crypto/msg_crypt.json")
}

func TestMsgCryptCorpus(t *testing.T) {
	t.Parallel()
	for _, v := range msgCryptVectors(t) {
		t.Run(v.name(), func(t *testing.T) {
			t.Parallel()
			c, err := NewCipher(v.EncodingAESKey, v.AppID)
			if err != nil {
				t.Fatalf("NewCipher: %v", err)
			}

			// 1. Decrypt gives plaintext and appid.
			got, err := c.Decrypt(v.Encrypt)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if string(got) != v.Plaintext {
				t.Errorf("Decrypt = %q, want %q", got, v.Plaintext)
			}
			msg, appID, err := c.DecryptBytes([]byte(v.Encrypt))
			if err != nil {
				t.Fatalf("DecryptBytes: %v", err)
			}
			if string(msg) != v.Plaintext || appID != v.AppID {
				t.Errorf("DecryptBytes = %q, %q; want %q, %q", msg, appID, v.Plaintext, v.AppID)
			}

			// 2. Re-encrypting with the vector's random gives exactly encrypt.
			if len(v.Random) != 16 {
				t.Fatalf("random %q is not 16 bytes", v.Random)
			}
			if enc := c.EncryptWithRandom([]byte(v.Random), []byte(v.Plaintext)); enc != v.Encrypt {
				t.Errorf("EncryptWithRandom = %s, want %s", enc, v.Encrypt)
			}
			prefix := []byte("prefix:")
			if enc := c.AppendEncrypt(prefix, []byte(v.Random), []byte(v.Plaintext)); string(enc) != "prefix:"+v.Encrypt {
				t.Errorf("AppendEncrypt = %s, want prefix:%s", enc, v.Encrypt)
			}

			// 3. msg_signature, when the vector has one.
			if v.MsgSignature != nil {
				if v.Token == nil || v.Timestamp == nil || v.Nonce == nil {
					t.Fatal("msg_signature given without token/timestamp/nonce")
				}
				if sig := MsgSignature(*v.Token, *v.Timestamp, *v.Nonce, v.Encrypt); sig != *v.MsgSignature {
					t.Errorf("MsgSignature = %s, want %s", sig, *v.MsgSignature)
				}
				if err := CheckMsgSignature(*v.MsgSignature, *v.Token, *v.Timestamp, *v.Nonce, v.Encrypt); err != nil {
					t.Errorf("CheckMsgSignature = %v", err)
				}
			}

			// 4. The envelope's <Encrypt> is the ciphertext.
			if v.EnvelopeXML != nil {
				env, err := message.ParseEnvelope([]byte(*v.EnvelopeXML))
				if err != nil {
					t.Fatalf("ParseEnvelope: %v", err)
				}
				if env.Encrypt != v.Encrypt {
					t.Errorf("envelope Encrypt = %s, want %s", env.Encrypt, v.Encrypt)
				}
				if v.Direction == "encrypt" {
					// The envelope is the exact expected reply: rebuild it.
					if v.MsgSignature == nil || env.MsgSignature != *v.MsgSignature ||
						env.TimeStamp != str(v.Timestamp) || env.Nonce != str(v.Nonce) {
						t.Errorf("reply envelope = %+v, want signature %s timestamp %s nonce %s",
							env, str(v.MsgSignature), str(v.Timestamp), str(v.Nonce))
					}
					sig := MsgSignature(str(v.Token), str(v.Timestamp), str(v.Nonce), v.Encrypt)
					out := message.AppendEnvelope(nil, c.EncryptWithRandom([]byte(v.Random), []byte(v.Plaintext)), sig, str(v.Timestamp), str(v.Nonce))
					want := strings.ReplaceAll(*v.EnvelopeXML, "\n", "")
					if string(out) != want {
						t.Errorf("AppendEnvelope =\n%s\nwant\n%s", out, want)
					}
				}
			}

			// Fields the source asserts after parsing the plaintext.
			if len(v.ExpectFields) > 0 {
				m, err := message.Parse(got)
				if err != nil {
					t.Fatalf("message.Parse(plaintext): %v", err)
				}
				for path, want := range v.ExpectFields {
					if val, ok := m.Get(path); !ok || val != want {
						t.Errorf("Get(%q) = %q, %v; want %q", path, val, ok, want)
					}
				}
			}

			// A Cipher bound to another AppID refuses the message.
			other, err := NewCipher(v.EncodingAESKey, v.AppID+"x")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := other.Decrypt(v.Encrypt); !errors.Is(err, ErrInvalidAppID) {
				t.Errorf("Decrypt with wrong AppID = %v, want ErrInvalidAppID", err)
			}
			if _, appID, err := other.DecryptBytes([]byte(v.Encrypt)); err != nil || appID != v.AppID {
				t.Errorf("DecryptBytes with wrong AppID = %q, %v; want %q, nil (no check)", appID, err, v.AppID)
			}

			// A ciphertext altered anywhere fails or decrypts to something else; never panics.
			raw, err := base64.StdEncoding.DecodeString(v.Encrypt)
			if err != nil {
				t.Fatal(err)
			}
			for _, pos := range []int{0, 15, len(raw) - 17, len(raw) - 1} {
				bad := bytes.Clone(raw)
				bad[pos] ^= 0x5a
				out, err := c.Decrypt(base64.StdEncoding.EncodeToString(bad))
				if err == nil && string(out) == v.Plaintext && pos >= 16 {
					t.Errorf("tampered byte %d still decrypts to the plaintext", pos)
				}
			}
			// Flipping the last ciphertext byte of the next-to-last block flips the
			// last plaintext byte: the padding no longer checks.
			bad := bytes.Clone(raw)
			bad[len(raw)-17] ^= 0x40
			if _, err := c.Decrypt(base64.StdEncoding.EncodeToString(bad)); !errors.Is(err, ErrInvalidPadding) {
				t.Errorf("Decrypt(tampered padding) = %v, want ErrInvalidPadding", err)
			}
		})
	}
}

func TestDecryptRejects(t *testing.T) {
	t.Parallel()
	const key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	const appID = "wxb11529c136998cb6"
	c, err := NewCipher(key, appID)
	if err != nil {
		t.Fatal(err)
	}
	aesKey, _ := DecodeAESKey(key)
	// seal encrypts a hand-built plaintext buffer (no padding added).
	seal := func(buf []byte) string {
		block, _ := aes.NewCipher(aesKey)
		out := bytes.Clone(buf)
		cipher.NewCBCEncrypter(block, aesKey[:16]).CryptBlocks(out, out)
		return base64.StdEncoding.EncodeToString(out)
	}
	// frame builds random||len||msg||appid padded with pad bytes of value padByte.
	frame := func(declaredLen uint32, msg string, padLen int, padByte byte) []byte {
		b := make([]byte, 16, 64)
		b = binary.BigEndian.AppendUint32(b, declaredLen)
		b = append(b, msg...)
		b = append(b, appID...)
		for range padLen {
			b = append(b, padByte)
		}
		return b
	}
	n := 16 + 4 + 5 + len(appID) // 43 → pad 21 to 64
	good := frame(5, "hello", 64-n, byte(64-n))
	if got, err := c.Decrypt(seal(good)); err != nil || string(got) != "hello" {
		t.Fatalf("Decrypt(hand-built frame) = %q, %v; want hello", got, err)
	}
	badPad := frame(5, "hello", 64-n, byte(64-n))
	badPad[len(badPad)-3] = 1
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrInvalidCiphertext},
		{"not base64", "!!!!", ErrInvalidCiphertext},
		{"one block", seal(good[:16]), ErrInvalidCiphertext},
		{"not whole blocks", base64.StdEncoding.EncodeToString(make([]byte, 40)), ErrInvalidCiphertext},
		{"pad byte 0", seal(frame(5, "hello", 64-n, 0)), ErrInvalidPadding},
		{"pad byte 33", seal(append(frame(5, "hello", 64-n-1, 0), 33)), ErrInvalidPadding},
		{"inconsistent padding", seal(badPad), ErrInvalidPadding},
		{"length beyond buffer", seal(frame(1000, "hello", 64-n, byte(64-n))), ErrInvalidCiphertext},
		{"length 4 GiB", seal(frame(0xffffffff, "hello", 64-n, byte(64-n))), ErrInvalidCiphertext},
		{"short after unpadding", seal(bytes.Repeat([]byte{32}, 32)), ErrInvalidCiphertext},
		{"wrong appid", seal(append(frame(5, "hello", 0, 0)[:25], append([]byte("wxAAAAAAAAAAAAAAAA"), bytes.Repeat([]byte{21}, 21)...)...)), ErrInvalidAppID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Decrypt(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("Decrypt = %q, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestNewCipherRejectsBadKeys(t *testing.T) {
	t.Parallel()
	for _, key := range []string{
		"",
		"abcdefghijklmnopqrstuvwxyz0123456789ABCDEF",   // 42
		"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH", // 44
		"abcdefghijklmnopqrstuvwxyz0123456789ABCDE!G",  // not base64
	} {
		if _, err := NewCipher(key, "wx"); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("NewCipher(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := DecodeAESKey(key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("DecodeAESKey(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestEncryptRoundTrip(t *testing.T) {
	t.Parallel()
	c, err := NewCipher("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
	if err != nil {
		t.Fatal(err)
	}
	// Every message length across two padding blocks, so that a full
	// 32-byte pad block occurs.
	seen := map[string]bool{}
	for n := 0; n <= 70; n++ {
		msg := strings.Repeat("界", n/3) + strings.Repeat("a", n%3)
		enc, err := c.Encrypt([]byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		if seen[enc] {
			t.Errorf("Encrypt produced a repeated ciphertext (random prefix not random)")
		}
		seen[enc] = true
		raw, _ := base64.StdEncoding.DecodeString(enc)
		if len(raw)%32 != 0 {
			t.Errorf("len(ciphertext) = %d, want a multiple of 32", len(raw))
		}
		got, err := c.Decrypt(enc)
		if err != nil || string(got) != msg {
			t.Errorf("Decrypt(Encrypt(%q)) = %q, %v", msg, got, err)
		}
	}
	if got := c.AppID(); got != "wx5823bf96d3bd56c7" {
		t.Errorf("AppID() = %q", got)
	}
}
