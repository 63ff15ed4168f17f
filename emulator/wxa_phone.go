package emulator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

func init() {
	handle("/wxa/business/getuserphonenumber", (*Emulator).serveGetUserPhoneNumber)
}

// WXGetPhoneNumber simulates the user openID (the first user when empty)
// of the Mini Program appID tapping a getPhoneNumber button and allowing
// it: the Mini Program gets a code that wxa/business/getuserphonenumber
// exchanges for the user's phone number, once, within
// WXPhoneCodeLifetime. Errors: ErrUnknownApp, ErrNotMiniProgram,
// ErrUnknownUser.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/getPhoneNumber.html
func (e *Emulator) WXGetPhoneNumber(appID, openID string) (string, error) {
	a, u, err := e.miniProgramUser(appID, openID)
	if err != nil {
		return "", err
	}
	now := e.Now()
	var b [32]byte
	_, _ = rand.Read(b[:])
	code := hex.EncodeToString(b[:])
	st := wxaOf(a)
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.phoneCodes) > 1024 {
		for k, c := range st.phoneCodes {
			if now.After(c.expires.Add(time.Hour)) {
				delete(st.phoneCodes, k)
			}
		}
	}
	st.phoneCodes[code] = &wxaPhoneCode{openID: u.OpenID, at: now, expires: now.Add(WXPhoneCodeLifetime)}
	return code, nil
}

// userPhone returns the phone number of u without and with its country
// code: the configured one, or a mainland number derived from the openid.
func userPhone(u *user) (pure, countryCode string) {
	pure, countryCode = u.PhoneNumber, u.CountryCode
	if countryCode == "" {
		countryCode = "86"
	}
	if pure == "" {
		sum := sha256.Sum256([]byte("phone:" + u.OpenID))
		pure = fmt.Sprintf("13%09d", binary.BigEndian.Uint64(sum[:8])%1_000_000_000)
	}
	return pure, countryCode
}

// phoneInfo is phone_info of getuserphonenumber.
type phoneInfo struct {
	PhoneNumber     string      `json:"phoneNumber"`
	PurePhoneNumber string      `json:"purePhoneNumber"`
	CountryCode     int         `json:"countryCode"`
	Watermark       wxWatermark `json:"watermark"`
}

// serveGetUserPhoneNumber serves POST /wxa/business/getuserphonenumber
// {"code"}: the phone number of the user who made code (WXGetPhoneNumber)
// in the token's Mini Program, as phone_info {phoneNumber (with "+" and the
// country code outside mainland China), purePhoneNumber, countryCode,
// watermark {timestamp of the tap, appid}}. Errors: the access_token errors,
// 48001 for an Official Account, 44002/47001 a missing or bad body, 41008
// code missing, 40029 a code that is unknown, of another app, used or
// expired.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/phone-number/getPhoneNumber.html
func (e *Emulator) serveGetUserPhoneNumber(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code string `json:"code"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireMiniProgram(w, a) {
		return
	}
	if req.Code == "" {
		e.writeErr(w, 41008)
		return
	}
	now := e.Now()
	st := wxaOf(a)
	st.mu.Lock()
	c := st.phoneCodes[req.Code]
	ok := c != nil && !c.used && now.Before(c.expires)
	if ok {
		c.used = true
	}
	st.mu.Unlock()
	if !ok {
		e.writeErr(w, 40029)
		return
	}
	a.mu.Lock()
	u := a.user(c.openID)
	a.mu.Unlock()
	if u == nil {
		e.writeErr(w, 40029)
		return
	}
	pure, cc := userPhone(u)
	full := pure
	if cc != "86" {
		full = "+" + cc + pure
	}
	ccNum, _ := strconv.Atoi(cc)
	writeJSON(w, struct {
		ErrCode   int       `json:"errcode"`
		ErrMsg    string    `json:"errmsg"`
		PhoneInfo phoneInfo `json:"phone_info"`
	}{0, "ok", phoneInfo{
		PhoneNumber: full, PurePhoneNumber: pure, CountryCode: ccNum,
		Watermark: wxWatermark{Timestamp: c.at.Unix(), AppID: a.cfg.AppID},
	}})
}
