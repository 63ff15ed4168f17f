// Package wxcrypto implements the cryptography of the WeChat server-side
// protocols: the URL "signature" and "msg_signature" (SHA-1 over sorted
// values), the AES-256-CBC message encryption of safe mode, the JS-SDK
// wx.config signature, and Mini Program encryptedData decryption
// (AES-128-CBC) and rawData signatures. WeChat Pay signing (v2 sign, refund
// req_info) lives in package pay, with the product it belongs to.
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
	// ErrInvalidSignature: a signature, msg_signature or rawData signature
	// does not match.
	ErrInvalidSignature = errors.New("wxcrypto: invalid signature")
	// ErrInvalidAppID: the AppID (or CorpID) at the end of a decrypted
	// message, or a Mini Program watermark appid, is not the expected one.
	ErrInvalidAppID = errors.New("wxcrypto: appid mismatch")
	// ErrInvalidPadding: the PKCS#7 padding of a decrypted buffer is malformed.
	ErrInvalidPadding = errors.New("wxcrypto: invalid padding")
	// ErrInvalidKey: an EncodingAESKey or session_key has the wrong length
	// or encoding.
	ErrInvalidKey = errors.New("wxcrypto: invalid key")
	// ErrInvalidCiphertext: the ciphertext is not valid base64, not a whole
	// number of AES blocks, or its inner length field is out of range.
	ErrInvalidCiphertext = errors.New("wxcrypto: invalid ciphertext")
)
