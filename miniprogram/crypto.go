package miniprogram

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wxkit/wxkit"
)

// keySize is the size of a decoded session_key (AES-128).
const keySize = 16

// Watermark is the watermark WeChat puts into encrypted data and phone
// number replies: the AppID of the Mini Program the data was made for, and
// when.
type Watermark struct {
	AppID     string          `json:"appid"`
	Timestamp wxkit.Timestamp `json:"timestamp"` // Unix seconds on the wire
}

// DecryptData decrypts a Mini Program encryptedData value and returns its
// plaintext (a JSON object) and watermark.
//
// sessionKey, encryptedData and iv are base64 as WeChat gives them
// (session_key from Code2Session, the others from the Mini Program): the
// cipher is AES-128-CBC with key = base64decode(sessionKey) (16 bytes) and
// IV = base64decode(iv) (16 bytes), and PKCS#7 padding. The watermark's
// appid must equal appID (an empty appID matches nothing). When maxAge > 0
// the watermark timestamp must also be within maxAge of now, in either
// direction (a replayed old encryptedData is refused); maxAge <= 0 skips
// that check.
//
// Errors (errors.Is): ErrInvalidSessionKey, ErrInvalidIV,
// ErrInvalidEncryptedData for malformed input; ErrDecrypt when the data does
// not decrypt to a JSON object (wrong session_key or iv, tampered data: the
// cases are deliberately not told apart); ErrWatermarkAppID, naming the
// foreign appid; ErrWatermarkStale. No input makes it panic, and no error
// carries the session_key.
//
// encryptedData carries no MAC: whoever sends it chooses the iv, and with
// it the first 16 bytes of the plaintext ({"openId":"oGZU...), so a client
// can alter the start of its own openId undetected. Take the user's
// identity from the Session of Code2Session, never from decrypted data (or
// refuse data whose openId differs from the session's).
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
func DecryptData(appID, sessionKey, encryptedData, iv string, now time.Time, maxAge time.Duration) ([]byte, *Watermark, error) {
	key, ivb, err := keyIV(sessionKey, iv)
	if err != nil {
		return nil, nil, err
	}
	ct, err := base64.StdEncoding.DecodeString(encryptedData)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, nil, ErrInvalidEncryptedData
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, ErrInvalidSessionKey
	}
	cipher.NewCBCDecrypter(block, ivb).CryptBlocks(ct, ct)
	pt, ok := unpad(ct)
	if !ok {
		return nil, nil, ErrDecrypt
	}
	var doc struct {
		Watermark Watermark `json:"watermark"`
	}
	if t := bytes.TrimLeft(pt, " \t\r\n"); len(t) == 0 || t[0] != '{' || json.Unmarshal(pt, &doc) != nil {
		return nil, nil, ErrDecrypt
	}
	wm := &doc.Watermark
	if err := wm.check(appID, now, maxAge); err != nil {
		return nil, nil, err
	}
	return pt, wm, nil
}

// check verifies the watermark's appid against appID and, when maxAge > 0,
// its timestamp against now.
func (wm *Watermark) check(appID string, now time.Time, maxAge time.Duration) error {
	if appID == "" || wm.AppID != appID {
		return fmt.Errorf("%w: %q", ErrWatermarkAppID, wm.AppID)
	}
	if maxAge > 0 {
		if wm.Timestamp.IsZero() {
			return fmt.Errorf("%w: no timestamp", ErrWatermarkStale)
		}
		if d := now.Sub(wm.Timestamp.Time); d > maxAge || d < -maxAge {
			return fmt.Errorf("%w: timestamp %d is %s from now", ErrWatermarkStale, wm.Timestamp.Unix(), d.Round(time.Second))
		}
	}
	return nil
}

// EncryptData is the inverse of DecryptData, for the emulator and tests:
// it encrypts plaintext (which should be a JSON object carrying a
// "watermark") with AES-128-CBC under the base64 sessionKey and iv (16
// bytes each) and PKCS#7 padding, and returns the base64 ciphertext.
// Errors: ErrInvalidSessionKey, ErrInvalidIV.
func EncryptData(sessionKey, iv string, plaintext []byte) (string, error) {
	key, ivb, err := keyIV(sessionKey, iv)
	if err != nil {
		return "", err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", ErrInvalidSessionKey
	}
	buf := pad(plaintext)
	cipher.NewCBCEncrypter(block, ivb).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// keyIV decodes a base64 session_key and iv of 16 bytes each.
func keyIV(sessionKey, iv string) (key, ivb []byte, err error) {
	key, err = base64.StdEncoding.DecodeString(sessionKey)
	if err != nil || len(key) != keySize {
		return nil, nil, ErrInvalidSessionKey
	}
	ivb, err = base64.StdEncoding.DecodeString(iv)
	if err != nil || len(ivb) != aes.BlockSize {
		return nil, nil, ErrInvalidIV
	}
	return key, ivb, nil
}

// unpad strips the PKCS#7 padding (1 to 16 bytes) of b, examining the last
// block in constant time.
func unpad(b []byte) ([]byte, bool) {
	n := len(b)
	if n == 0 || n%aes.BlockSize != 0 {
		return nil, false
	}
	p := int(b[n-1])
	good := subtle.ConstantTimeLessOrEq(1, p) & subtle.ConstantTimeLessOrEq(p, aes.BlockSize)
	for i := 1; i <= aes.BlockSize; i++ {
		// Byte n-i must equal p when i <= p.
		inPad := subtle.ConstantTimeLessOrEq(i, p)
		eq := subtle.ConstantTimeByteEq(b[n-i], byte(p))
		good &= eq | (inPad ^ 1)
	}
	if good != 1 {
		return nil, false
	}
	return b[:n-p], true
}

// pad returns a copy of b with PKCS#7 padding to a multiple of 16 bytes.
func pad(b []byte) []byte {
	p := aes.BlockSize - len(b)%aes.BlockSize
	out := make([]byte, len(b)+p)
	copy(out, b)
	for i := len(b); i < len(out); i++ {
		out[i] = byte(p)
	}
	return out
}

// UserInfo is the decrypted encryptedData of wx.getUserInfo (and of
// wx.getUserProfile): the user's profile and watermark. Since 2021 WeChat
// returns a placeholder nickname and avatar to new Mini Programs.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/api/open-api/user-info/UserInfo.html
type UserInfo struct {
	OpenID    string    `json:"openId"`
	UnionID   string    `json:"unionId,omitempty"`
	NickName  string    `json:"nickName"`
	Gender    int       `json:"gender"` // 0 unknown, 1 male, 2 female
	Language  string    `json:"language"`
	City      string    `json:"city"`
	Province  string    `json:"province"`
	Country   string    `json:"country"`
	AvatarURL string    `json:"avatarUrl"`
	Watermark Watermark `json:"watermark"`
}

// DecryptUserInfo decrypts the encryptedData of wx.getUserInfo with
// DecryptData (same arguments, same errors) and decodes it. A plaintext that
// does not decode as UserInfo is ErrDecrypt.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
func DecryptUserInfo(appID, sessionKey, encryptedData, iv string, now time.Time, maxAge time.Duration) (*UserInfo, error) {
	pt, _, err := DecryptData(appID, sessionKey, encryptedData, iv, now, maxAge)
	if err != nil {
		return nil, err
	}
	u := new(UserInfo)
	if err := json.Unmarshal(pt, u); err != nil {
		return nil, ErrDecrypt
	}
	return u, nil
}

// PhoneInfo is a user's phone number: the phone_info of PhoneNumber, or the
// decrypted encryptedData of the old getPhoneNumber button.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/phone-number/getPhoneNumber.html
type PhoneInfo struct {
	// PhoneNumber is the number with its country code for numbers outside
	// mainland China ("+1 202..."), without it otherwise.
	PhoneNumber string `json:"phoneNumber"`
	// PurePhoneNumber is the number without country code.
	PurePhoneNumber string `json:"purePhoneNumber"`
	// CountryCode is the country code without "+" ("86"). WeChat sends it
	// as a string or a number; both decode.
	CountryCode CountryCode `json:"countryCode"`
	Watermark   Watermark   `json:"watermark"`
}

// CountryCode is a telephone country code such as "86". It decodes from a
// JSON string or number and encodes as a string.
type CountryCode string

// UnmarshalJSON accepts "86" and 86.
func (c *CountryCode) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = CountryCode(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*c = CountryCode(n.String())
	return nil
}

// DecryptPhoneNumber decrypts the encryptedData of the old getPhoneNumber
// button with DecryptData (same arguments, same errors) and decodes it. New
// code gets the number from the button's code with Client.PhoneNumber.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/deprecatedGetPhoneNumber.html
func DecryptPhoneNumber(appID, sessionKey, encryptedData, iv string, now time.Time, maxAge time.Duration) (*PhoneInfo, error) {
	pt, _, err := DecryptData(appID, sessionKey, encryptedData, iv, now, maxAge)
	if err != nil {
		return nil, err
	}
	p := new(PhoneInfo)
	if err := json.Unmarshal(pt, p); err != nil {
		return nil, ErrDecrypt
	}
	return p, nil
}
