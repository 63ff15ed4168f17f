package miniprogram

import (
	"errors"

	"github.com/wxkit/wxkit"
)

// Errors of the Mini Program cryptography (DecryptData, its typed helpers and
// CheckRawDataSignature). They never carry key material; compare with
// errors.Is.
var (
	// ErrInvalidSessionKey: the session_key is not the base64 of 16 bytes.
	ErrInvalidSessionKey = errors.New("miniprogram: invalid session_key")
	// ErrInvalidIV: the iv is not the base64 of 16 bytes.
	ErrInvalidIV = errors.New("miniprogram: invalid iv")
	// ErrInvalidEncryptedData: encryptedData is not base64, is empty, or is
	// not a whole number of AES blocks.
	ErrInvalidEncryptedData = errors.New("miniprogram: invalid encryptedData")
	// ErrDecrypt: encryptedData does not decrypt to a JSON object under this
	// session_key and iv: the session_key is not the one the data was
	// encrypted with (the user logged in again), the iv is not the one sent
	// with it, or the data was tampered with. The cases are not told apart.
	ErrDecrypt = errors.New("miniprogram: encryptedData does not decrypt (wrong session_key or iv, or tampered data)")
	// ErrWatermarkAppID: the decrypted data (or a phone number reply) carries
	// the watermark of another Mini Program than the expected AppID.
	ErrWatermarkAppID = errors.New("miniprogram: watermark appid is not this Mini Program's")
	// ErrWatermarkStale: the watermark timestamp is further than maxAge
	// from now.
	ErrWatermarkStale = errors.New("miniprogram: watermark timestamp outside maxAge")
	// ErrSignatureMismatch: a rawData signature does not match
	// sha1(rawData + session_key).
	ErrSignatureMismatch = errors.New("miniprogram: rawData signature mismatch")
	// ErrInvalidRequest: a request that the client refuses before sending it
	// (an empty code, a WXACodeRequest outside the documented limits). The
	// error wraps it with the detail.
	ErrInvalidRequest = errors.New("miniprogram: invalid request")
)

// Errcodes of the Mini Program API that callers branch on, as
// *wxkit.APIError sentinels matching on ErrCode alone (errors.Is). Among
// those of package wxkit, Code2Session and PhoneNumber also answer
// wxkit.ErrInvalidCode (40029) and wxkit.ErrCodeBeenUsed (40163), and
// Code2Session wxkit.ErrAPIMinuteQuota (45011: more than 100 logins a minute
// for one user); WXACodeUnlimited answers wxkit.ErrAPIDailyQuota (45009).
// Never modify them.
var (
	// ErrRiskyUser (40226): Code2Session refused a user that WeChat rates
	// high risk (高风险等级用户，小程序登录拦截).
	ErrRiskyUser = &wxkit.APIError{ErrCode: 40226, ErrMsg: "high risk user, login blocked"}
	// ErrSessionSignature (87009): CheckSession found the signature invalid:
	// the session_key is not (or no longer) the user's current one.
	ErrSessionSignature = &wxkit.APIError{ErrCode: 87009, ErrMsg: "invalid signature"}
	// ErrInvalidPage (41030): WXACodeUnlimited was given a page that the
	// released Mini Program does not have (or check_path with an
	// unreleased Mini Program).
	ErrInvalidPage = &wxkit.APIError{ErrCode: 41030, ErrMsg: "invalid page"}
	// ErrUserRefused (43101): the user has not accepted (or has refused) the
	// subscribe message template.
	ErrUserRefused = &wxkit.APIError{ErrCode: 43101, ErrMsg: "user refuse to accept the msg"}
	// ErrArgumentInvalid (47003): a subscribe message value breaks its
	// keyword's rules (length, charset), or another argument is invalid.
	ErrArgumentInvalid = &wxkit.APIError{ErrCode: 47003, ErrMsg: "argument invalid"}
)
