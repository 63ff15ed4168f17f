package payv3

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
)

// AlgorithmAEADAES256GCM is the only resource algorithm of v3: AES-GCM with
// the APIv3 key, a 12-byte nonce and associated data, the ciphertext in
// base64 with its 16-byte tag appended.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/certificate-callback-decryption.html
const AlgorithmAEADAES256GCM = "AEAD_AES_256_GCM"

// DecryptResource decrypts a notify resource (or an encrypted platform
// certificate) with the APIv3 key and returns the plaintext. The key is the
// 32 characters set on the merchant platform; keys of 16 and 24 bytes are
// taken too (as in the SDKs' test vectors), anything else is an error.
// Every failure matches ErrDecrypt.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/certificate-callback-decryption.html
func DecryptResource(apiV3Key string, r *Resource) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: no resource", ErrDecrypt)
	}
	if r.Algorithm != AlgorithmAEADAES256GCM {
		return nil, fmt.Errorf("%w: algorithm %q, want %s", ErrDecrypt, r.Algorithm, AlgorithmAEADAES256GCM)
	}
	return decryptAEAD(apiV3Key, r.Nonce, r.AssociatedData, r.Ciphertext)
}

// decryptAEAD opens base64 ciphertext||tag with AES-GCM.
func decryptAEAD(key, nonce, associatedData, ciphertext string) ([]byte, error) {
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		return nil, fmt.Errorf("%w: APIv3 key of %d bytes, want 32", ErrDecrypt, len(key))
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	if len(nonce) != gcm.NonceSize() {
		return nil, fmt.Errorf("%w: nonce of %d bytes, want %d", ErrDecrypt, len(nonce), gcm.NonceSize())
	}
	ct, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: ciphertext is not base64", ErrDecrypt)
	}
	if len(ct) < gcm.Overhead() {
		return nil, fmt.Errorf("%w: ciphertext shorter than the tag", ErrDecrypt)
	}
	pt, err := gcm.Open(nil, []byte(nonce), ct, []byte(associatedData))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return pt, nil
}
