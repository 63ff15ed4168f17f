package openplatform

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// NewRefreshTokenCipher returns the AEAD that WithRefreshTokenCipher
// expects for a 32-byte key: AES-256-GCM. Generate the key once (32 bytes
// from crypto/rand), keep it with the deployment's secrets, and give every
// instance the same one: losing it makes the stored refresh tokens
// unreadable, and every authorizer must then authorize again.
func NewRefreshTokenCipher(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("openplatform: refresh token key: %d bytes, want 32", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("openplatform: refresh token key: %w", err)
	}
	return cipher.NewGCM(b)
}

// sealedVersion is the first byte of a sealed refresh token: the format
// (1: version || nonce || AEAD ciphertext and tag).
const sealedVersion = 1

// errSealed is returned when a stored refresh token cannot be opened (a
// wrong key, or a row copied from another authorizer).
var errSealed = errors.New("openplatform: stored refresh token cannot be decrypted: wrong refresh-token key, or a damaged or foreign row")

// refreshTokenAAD binds a sealed refresh token to its authorizer, so that a
// ciphertext moved to another row does not open.
func refreshTokenAAD(componentAppID, appID string) []byte {
	b := make([]byte, 0, 48+len(componentAppID)+len(appID))
	b = append(b, "wxkit/openplatform/authorizer_refresh_token\x00"...)
	b = append(b, componentAppID...)
	b = append(b, 0)
	return append(b, appID...)
}

// sealRefreshToken encrypts a refresh token for storage.
func sealRefreshToken(aead cipher.AEAD, componentAppID, appID, rt string) []byte {
	n := aead.NonceSize()
	out := make([]byte, 1+n, 1+n+len(rt)+aead.Overhead())
	out[0] = sealedVersion
	_, _ = rand.Read(out[1 : 1+n]) // crypto/rand.Read never fails (Go 1.24+)
	return aead.Seal(out, out[1:1+n], []byte(rt), refreshTokenAAD(componentAppID, appID))
}

// openRefreshToken decrypts a stored refresh token; an empty one is "".
func openRefreshToken(aead cipher.AEAD, componentAppID, appID string, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	n := aead.NonceSize()
	if sealed[0] != sealedVersion || len(sealed) < 1+n+aead.Overhead() {
		return "", errSealed
	}
	pt, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], refreshTokenAAD(componentAppID, appID))
	if err != nil {
		return "", errSealed
	}
	return string(pt), nil
}
