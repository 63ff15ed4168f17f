package gateway

import (
	"io"
	"net/http"
)

// registerVerifyFiles serves each entry of verify_files, the domain
// verification files that WeChat asks for before it accepts a JS-SDK or
// web-authorization domain ("MP_verify_abc.txt" → "abc"), at
// GET /{name}, text/plain, exactly as configured. Only the exact names are
// served; nothing else under / is.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
func (w *webState) registerVerifyFiles(mux *http.ServeMux) {
	for name, content := range w.cfg.VerifyFiles {
		body := content
		mux.HandleFunc("GET /"+name, func(rw http.ResponseWriter, _ *http.Request) {
			h := rw.Header()
			h.Set("Content-Type", "text/plain; charset=utf-8")
			h.Set("X-Content-Type-Options", "nosniff")
			io.WriteString(rw, body)
		})
	}
}
