// Package wxcrypto implements the cryptography of the WeChat server-side
// protocols: the URL "signature" and "msg_signature" (SHA-1 over sorted
// values), the AES-256-CBC message encryption of safe mode and the JS-SDK
// wx.config signature. The Mini Program's cryptography (encryptedData,
// rawData signatures) lives in package miniprogram and WeChat Pay signing
// (v2 sign, refund req_info) in package pay, with the products they belong
// to.
//
// Every check that compares a secret-derived value uses a constant-time
// comparison. Errors are the sentinels below; wrap-aware callers use
// errors.Is.
//
// It imports the standard library only and is shared by the library, the
// gateway and the emulator.
package wxcrypto

import "errors"

// Errors returned by this package. They never carry key material.
var (
	// ErrInvalidSignature: a signature or msg_signature does not match.
	ErrInvalidSignature = errors.New("wxcrypto: invalid signature")
	// ErrInvalidAppID: the AppID (or CorpID) at the end of a decrypted
	// message is not the expected one.
	ErrInvalidAppID = errors.New("wxcrypto: appid mismatch")
	// ErrInvalidPadding: the PKCS#7 padding of a decrypted buffer is malformed.
	ErrInvalidPadding = errors.New("wxcrypto: invalid padding")
	// ErrInvalidKey: an EncodingAESKey has the wrong length or encoding.
	ErrInvalidKey = errors.New("wxcrypto: invalid key")
	// ErrInvalidCiphertext: the ciphertext is not valid base64, not a whole
	// number of AES blocks, or its inner length field is out of range.
	ErrInvalidCiphertext = errors.New("wxcrypto: invalid ciphertext")
)
