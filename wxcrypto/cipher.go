package wxcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"sync"
	"unsafe"
)

// blockSize is the PKCS#7 block WeChat pads messages to: 32 bytes, not the
// AES block size.
const blockSize = 32

// maxMessage bounds the inner length field of a decrypted message (the
// webhook caps bodies at 1 MiB anyway).
const maxMessage = 4 << 20

// Cipher is the AES-256-CBC message cipher of safe mode (安全模式), bound to
// one EncodingAESKey and one AppID (or WeCom CorpID). The key is
// base64decode(EncodingAESKey + "="), the IV its first 16 bytes, and the
// plaintext buffer random(16) || uint32_be(len(msg)) || msg || appid, padded
// with PKCS#7 to a multiple of 32 bytes. A Cipher is safe for concurrent use.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
type Cipher struct {
	block cipher.Block
	iv    [16]byte
	appID string
	bufs  sync.Pool // *[]byte scratch frames for AppendEncrypt
}

// NewCipher returns a Cipher for a 43-character EncodingAESKey and the
// AppID that every message must carry. It returns ErrInvalidKey when the
// key is not 43 base64 characters decoding to 32 bytes.
func NewCipher(encodingAESKey, appID string) (*Cipher, error) {
	key, err := DecodeAESKey(encodingAESKey)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	c := &Cipher{block: block, appID: appID}
	copy(c.iv[:], key[:16])
	return c, nil
}

// DecodeAESKey decodes a 43-character EncodingAESKey into its 32-byte AES
// key, or returns ErrInvalidKey.
func DecodeAESKey(encodingAESKey string) ([]byte, error) {
	if len(encodingAESKey) != 43 {
		return nil, fmt.Errorf("%w: EncodingAESKey must be 43 characters, got %d", ErrInvalidKey, len(encodingAESKey))
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%w: EncodingAESKey is not base64 of 32 bytes", ErrInvalidKey)
	}
	return key, nil
}

// AppID returns the AppID the Cipher appends and checks.
func (c *Cipher) AppID() string { return c.appID }

// Encrypt encrypts msg with a fresh random prefix and returns the base64
// text for an <Encrypt> element.
func (c *Cipher) Encrypt(msg []byte) (string, error) {
	var random [16]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", err
	}
	return string(c.AppendEncrypt(nil, random[:], msg)), nil
}

// EncryptWithRandom encrypts msg with the given 16-byte random prefix (for
// reproducing published vectors) and returns the base64 text.
// It panics if len(random) != 16, which is a programming error.
func (c *Cipher) EncryptWithRandom(random, msg []byte) string {
	return string(c.AppendEncrypt(nil, random, msg))
}

// AppendEncrypt appends base64(AES-256-CBC(random || len || msg || appid))
// to dst and returns the extended slice. random must be 16 bytes.
func (c *Cipher) AppendEncrypt(dst, random, msg []byte) []byte {
	if len(random) != 16 {
		panic("wxcrypto: random prefix must be 16 bytes")
	}
	n := 16 + 4 + len(msg) + len(c.appID)
	pad := blockSize - n%blockSize
	bp, _ := c.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	if cap(*bp) < n+pad {
		*bp = make([]byte, n+pad)
	}
	buf := (*bp)[:n+pad]
	defer c.bufs.Put(bp)
	copy(buf, random)
	binary.BigEndian.PutUint32(buf[16:20], uint32(len(msg)))
	copy(buf[20:], msg)
	copy(buf[20+len(msg):], c.appID)
	for i := n; i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.block, c.iv[:]).CryptBlocks(buf, buf)
	return base64.StdEncoding.AppendEncode(dst, buf)
}

// Decrypt decrypts the base64 text of an <Encrypt> element (or an encrypted
// echostr), checks that the trailing AppID is the Cipher's, and returns the
// message. Errors: ErrInvalidCiphertext, ErrInvalidPadding, ErrInvalidAppID.
func (c *Cipher) Decrypt(b64 string) ([]byte, error) {
	// decrypt only reads its input, so the string's bytes are lent, not copied.
	msg, appID, err := c.decrypt(unsafe.Slice(unsafe.StringData(b64), len(b64)))
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(appID, []byte(c.appID)) != 1 {
		return nil, ErrInvalidAppID
	}
	return msg, nil
}

// DecryptBytes decrypts base64 ciphertext and returns the message and the
// AppID found after it, without checking that AppID. The returned message
// aliases a freshly allocated buffer.
func (c *Cipher) DecryptBytes(b64 []byte) (msg []byte, appID string, err error) {
	msg, id, err := c.decrypt(b64)
	if err != nil {
		return nil, "", err
	}
	return msg, string(id), nil
}

// decrypt reads b64 without retaining it and returns the message and the
// AppID bytes, both aliasing one fresh buffer.
func (c *Cipher) decrypt(b64 []byte) (msg, appID []byte, err error) {
	buf := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(buf, b64)
	if err != nil {
		return nil, nil, ErrInvalidCiphertext
	}
	buf = buf[:n]
	if len(buf) < 32 || len(buf)%aes.BlockSize != 0 {
		return nil, nil, ErrInvalidCiphertext
	}
	cipher.NewCBCDecrypter(c.block, c.iv[:]).CryptBlocks(buf, buf)
	buf, err = unpad(buf, blockSize)
	if err != nil {
		return nil, nil, err
	}
	if len(buf) < 20 {
		return nil, nil, ErrInvalidCiphertext
	}
	l := binary.BigEndian.Uint32(buf[16:20])
	if l > maxMessage || int(l) > len(buf)-20 {
		return nil, nil, ErrInvalidCiphertext
	}
	return buf[20 : 20+l : 20+l], buf[20+l:], nil
}

// unpad strips PKCS#7 padding of at most max bytes.
func unpad(b []byte, max int) ([]byte, error) {
	if len(b) == 0 {
		return nil, ErrInvalidPadding
	}
	p := int(b[len(b)-1])
	if p == 0 || p > max || p > len(b) {
		return nil, ErrInvalidPadding
	}
	for _, v := range b[len(b)-p:] {
		if int(v) != p {
			return nil, ErrInvalidPadding
		}
	}
	return b[:len(b)-p], nil
}

// pad appends PKCS#7 padding to a multiple of size.
func pad(b []byte, size int) []byte {
	p := size - len(b)%size
	for range p {
		b = append(b, byte(p))
	}
	return b
}
