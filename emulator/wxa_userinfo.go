package emulator

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// WXUserInfo is a user's public profile as wx.getUserInfo returns it
// (userInfo, and rawData in JSON).
type WXUserInfo struct {
	NickName  string `json:"nickName"`
	Gender    int    `json:"gender"` // 0 unknown, 1 male, 2 female
	Language  string `json:"language"`
	City      string `json:"city"`
	Province  string `json:"province"`
	Country   string `json:"country"`
	AvatarURL string `json:"avatarUrl"`
}

// WXGetUserInfoResult is what wx.getUserInfo hands the Mini Program: the
// profile in clear (UserInfo, and RawData, its JSON text), Signature =
// sha1_hex(RawData + session_key), and EncryptedData: the profile with
// openId, unionId and a watermark {appid, timestamp}, encrypted with
// AES-128-CBC under the user's current session_key (base64-decoded) and
// IV (base64), PKCS#7 padded, in base64.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
type WXGetUserInfoResult struct {
	EncryptedData string     `json:"encryptedData"`
	IV            string     `json:"iv"`
	RawData       string     `json:"rawData"`
	Signature     string     `json:"signature"`
	UserInfo      WXUserInfo `json:"userInfo"`
}

// wxWatermark is the watermark of encrypted Mini Program data.
type wxWatermark struct {
	Timestamp int64  `json:"timestamp"`
	AppID     string `json:"appid"`
}

// wxEncryptedUserInfo is the plaintext of wx.getUserInfo's encryptedData.
type wxEncryptedUserInfo struct {
	OpenID string `json:"openId"`
	WXUserInfo
	UnionID   string      `json:"unionId,omitempty"`
	Watermark wxWatermark `json:"watermark"`
}

// WXGetUserInfo simulates wx.getUserInfo in the Mini Program appID for the
// user openID (its first user when empty), with the user's current
// session_key (see WXLogin) and a watermark of appID and the emulator's
// time. Errors: ErrUnknownApp, ErrNotMiniProgram, ErrUnknownUser,
// ErrNoSession.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/api/open-api/user-info/wx.getUserInfo.html
func (e *Emulator) WXGetUserInfo(appID, openID string) (*WXGetUserInfoResult, error) {
	a, u, err := e.miniProgramUser(appID, openID)
	if err != nil {
		return nil, err
	}
	key := wxaOf(a).sessionKey(u.OpenID)
	if key == "" {
		return nil, fmt.Errorf("%w: %s of %s", ErrNoSession, u.OpenID, appID)
	}
	info := WXUserInfo{
		NickName: u.Nickname, Gender: u.Sex, Language: u.Language, City: u.City,
		Province: u.Province, Country: u.Country, AvatarURL: u.HeadImgURL,
	}
	if info.NickName == "" {
		info.NickName = "微信用户"
	}
	raw, err := marshalNoEscape(info)
	if err != nil {
		return nil, err
	}
	plain, err := marshalNoEscape(wxEncryptedUserInfo{
		OpenID: u.OpenID, WXUserInfo: info, UnionID: u.UnionID,
		Watermark: wxWatermark{Timestamp: e.Now().Unix(), AppID: appID},
	})
	if err != nil {
		return nil, err
	}
	var iv [aes.BlockSize]byte
	_, _ = rand.Read(iv[:])
	enc, err := encryptMiniProgramData(key, iv[:], plain)
	if err != nil {
		return nil, err
	}
	return &WXGetUserInfoResult{
		EncryptedData: enc, IV: base64.StdEncoding.EncodeToString(iv[:]), RawData: string(raw),
		Signature: rawDataSignature(string(raw), key), UserInfo: info,
	}, nil
}

// rawDataSignature returns sha1_hex(rawData + sessionKey), the signature
// wx.getUserInfo gives beside rawData.
func rawDataSignature(rawData, sessionKey string) string {
	sum := sha1.Sum([]byte(rawData + sessionKey))
	return hex.EncodeToString(sum[:])
}

// marshalNoEscape encodes v as compact JSON without HTML escaping, as the
// WeChat client does.
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// encryptMiniProgramData encrypts plaintext as Mini Program encryptedData:
// AES-128-CBC, key = base64decode(sessionKey), PKCS#7 to 16 bytes; base64.
func encryptMiniProgramData(sessionKey string, iv, plaintext []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil || len(key) != 16 {
		return "", fmt.Errorf("emulator: invalid session_key")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	n := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := append(append([]byte(nil), plaintext...), bytes.Repeat([]byte{byte(n)}, n)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf), nil
}
