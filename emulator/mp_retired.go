package emulator

import "net/http"

// retiredAPIs are platform APIs WeChat has switched off; the emulator
// answers them as the platform does now, after the usual access_token
// checks, so that callers see the real refusal rather than a 404.
var retiredAPIs = []string{
	// cgi-bin/shorturl (长链接转短链接) stopped making short links on
	// 2021-03-15 and now answers 45103 "This API has been unsupported".
	"/cgi-bin/shorturl",
}

func init() {
	for _, p := range retiredAPIs {
		handle(p, (*Emulator).serveRetired)
	}
}

// serveRetired answers a retired API: 45103 "This API has been
// unsupported" (the token errors first).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Account_Management/URL_Shortener.html
func (e *Emulator) serveRetired(w http.ResponseWriter, r *http.Request) {
	if _, err := e.requireToken(r); err != nil {
		e.writeAPIError(w, err)
		return
	}
	e.writeAPIError(w, mpErrf(45103, "This API has been unsupported"))
}
