package gateway

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// A Mini Program session keeps the user's session_key in the session
// store sealed (store.Session.SealedSessionKey) under a key derived from
// the session's token: the store holds only the token's SHA-256, so that
// a copy of the store (a backup, a Redis dump) reveals no session_key,
// and the key needs no configuration shared between instances.
//
// Layout: version (1 byte, sealVersion) || nonce (12 bytes) || AES-256-GCM
// ciphertext and tag, with the key HMAC-SHA256(token, sealLabel) and the
// associated data appid || 0x00 || openid (a sealed key moved to another
// user's session does not open).

const (
	sealVersion = 1
	sealLabel   = "wxkit wxa session_key v1"
)

// errSealedKey is the error of a sealed key that does not open.
var errSealedKey = errors.New("the session's sealed session_key does not open")

func sealAEAD(token string) (cipher.AEAD, error) {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte(sealLabel))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func sealAD(appID, openID string) []byte {
	return append(append([]byte(appID), 0), openID...)
}

// sealSessionKey seals sessionKey for the session of token, user openID
// of appID.
func sealSessionKey(token, appID, openID, sessionKey string) ([]byte, error) {
	aead, err := sealAEAD(token)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(sessionKey)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return aead.Seal(out, out[1:], []byte(sessionKey), sealAD(appID, openID)), nil
}

// openSessionKey opens what sealSessionKey sealed, or fails with
// errSealedKey.
func openSessionKey(token, appID, openID string, sealed []byte) (string, error) {
	aead, err := sealAEAD(token)
	if err != nil {
		return "", err
	}
	n := aead.NonceSize()
	if len(sealed) < 1+n+aead.Overhead() || sealed[0] != sealVersion {
		return "", errSealedKey
	}
	pt, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], sealAD(appID, openID))
	if err != nil {
		return "", errSealedKey
	}
	return string(pt), nil
}
