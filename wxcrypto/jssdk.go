package wxcrypto

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"
)

// JSSDKSignature returns the wx.config signature of a page: the hex SHA-1 of
// "jsapi_ticket=T&noncestr=N&timestamp=TS&url=U", where U is pageURL with
// any "#fragment" removed. timestamp is Unix seconds.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html (附录1)
func JSSDKSignature(jsapiTicket, nonceStr string, timestamp int64, pageURL string) string {
	return JSSDKSignatureString(jsapiTicket, nonceStr, strconv.FormatInt(timestamp, 10), pageURL)
}

// JSSDKSignatureString is JSSDKSignature with the timestamp as the exact
// decimal string that the page will pass to wx.config.
func JSSDKSignatureString(jsapiTicket, nonceStr, timestamp, pageURL string) string {
	if i := strings.IndexByte(pageURL, '#'); i >= 0 {
		pageURL = pageURL[:i]
	}
	s := "jsapi_ticket=" + jsapiTicket + "&noncestr=" + nonceStr + "&timestamp=" + timestamp + "&url=" + pageURL
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
