package wxcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
)

// DecryptMiniProgram decrypts a Mini Program encryptedData value
// (AES-128-CBC, key = base64decode(session_key), IV = base64decode(iv),
// PKCS#7) and checks that its watermark.appid equals appID. It returns the
// plaintext JSON. Errors: ErrInvalidKey, ErrInvalidCiphertext,
// ErrInvalidPadding, ErrInvalidAppID.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
func DecryptMiniProgram(appID, sessionKey, iv, encryptedData string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil || len(key) != 16 {
		return nil, ErrInvalidKey
	}
	ivb, err := base64.StdEncoding.DecodeString(iv)
	if err != nil || len(ivb) != aes.BlockSize {
		return nil, ErrInvalidCiphertext
	}
	ct, err := base64.StdEncoding.DecodeString(encryptedData)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, ErrInvalidCiphertext
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, ErrInvalidKey
	}
	cipher.NewCBCDecrypter(block, ivb).CryptBlocks(ct, ct)
	pt, err := unpad(ct, aes.BlockSize)
	if err != nil {
		return nil, err
	}
	var wm struct {
		Watermark struct {
			AppID string `json:"appid"`
		} `json:"watermark"`
	}
	if err := json.Unmarshal(pt, &wm); err != nil {
		return nil, ErrInvalidCiphertext
	}
	if !Equal(wm.Watermark.AppID, appID) {
		return nil, ErrInvalidAppID
	}
	return pt, nil
}

// EncryptMiniProgram is the inverse of DecryptMiniProgram, used by the
// emulator: it encrypts plaintext with a 16-byte session_key and IV (both
// base64) and returns base64 ciphertext.
func EncryptMiniProgram(sessionKey, iv string, plaintext []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil || len(key) != 16 {
		return "", ErrInvalidKey
	}
	ivb, err := base64.StdEncoding.DecodeString(iv)
	if err != nil || len(ivb) != aes.BlockSize {
		return "", ErrInvalidKey
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", ErrInvalidKey
	}
	buf := pad(append([]byte(nil), plaintext...), aes.BlockSize)
	cipher.NewCBCEncrypter(block, ivb).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// MiniProgramSignature returns sha1_hex(rawData + session_key), the
// signature wx.getUserInfo returns beside rawData.
func MiniProgramSignature(rawData, sessionKey string) string {
	sum := sha1.Sum([]byte(rawData + sessionKey))
	return hex.EncodeToString(sum[:])
}

// CheckMiniProgramSignature compares signature with
// MiniProgramSignature(rawData, sessionKey) in constant time and returns
// ErrInvalidSignature when they differ.
func CheckMiniProgramSignature(signature, rawData, sessionKey string) error {
	return equalHex(signature, MiniProgramSignature(rawData, sessionKey))
}
