package emulator

import (
	"encoding/json"
	"net/http"

	"github.com/wxkit/wxkit"
)

// mpErrMsgs are the platform's errmsg texts of the Official Account APIs
// served by the mp_*.go files (the English texts of the errcode table).
var mpErrMsgs = map[int]string{
	40004: "invalid media type",
	40005: "invalid file type",
	40006: "invalid meida size",
	40008: "invalid message type",
	40009: "invalid image size",
	40010: "invalid voice size",
	40011: "invalid video size",
	40012: "invalid thumb size",
	40016: "invalid button size",
	40017: "invalid button type",
	40018: "invalid button name size",
	40019: "invalid button key size",
	40020: "invalid button url size",
	40022: "invalid sub_menu level",
	40023: "invalid sub button size",
	40024: "invalid sub button type",
	40025: "invalid sub button name size",
	40026: "invalid sub button key size",
	40027: "invalid sub button url size",
	40032: "invalid openid list size",
	40035: "invalid args size",
	40037: "invalid template_id",
	40102: "invalid industry id",
	40050: "invalid group id",
	40073: "invalid card id",
	40130: "invalid openid list size, at least two openid",
	40165: "invalid weapp pagepath",
	40166: "invalid weapp appid",
	41005: "media data missing",
	41006: "media_id missing",
	44001: "empty media data",
	44003: "empty news data",
	44004: "empty content",
	43100: "change template too frequently",
	43101: "user refuse to accept the msg",
	45002: "content size out of limit",
	45003: "title size out of limit",
	45004: "description size out of limit",
	45005: "url size out of limit",
	45008: "article size out of limit",
	45015: "response out of time limit or subscription is canceled",
	45026: "template num exceeds limit",
	45028: "has no masssend quota",
	45047: "out of response count limit",
	45056: "too many tag now, no need to add new",
	45057: "can't delete the tag that has too many fans",
	45058: "can't modify sys tag",
	45059: "can not tagging one user too much",
	45065: "clientmsgid exist",
	45066: "same clientmsgid retry too fast",
	45067: "clientmsgid size out of limit",
	45083: "the speed out of range",
	45084: "No speed message",
	45157: "invalid tag name",
	45158: "tag name too long",
	45159: "invalid tag id",
	45110: "author size out of limit",
	53600: "invalid article_id",
	46004: "user no exist",
	47003: "argument invalid!",
	48006: "forbid to clear quota because of reaching the limit",
	65301: "this menu is not conditionalmenu",
	65302: "no such user",
	65303: "there is no selfmenu, please create selfmenu first",
	65304: "match rule empty",
	65401: "invalid custom service account",
	65403: "illegal nickname",
	65404: "illegal custom service account",
	65405: "custom service account number reach limit",
	65406: "custom service account exists",
	65407: "the wechat user have been one of your workers",
	65408: "you have already invited the wechat user",
	65409: "wechat account invalid",
	65411: "a effective invitation to bind the custom service account exists",
	65412: "the custom service account have been bound by a wechat user",
	65413: "no effective session for the customer",
	65414: "another worker is serving the customer",
	65415: "the worker is not online",
	76001: "rid not found",
	76002: "rid is error",
	76003: "could not query this rid,no permission",
	76004: "rid time is error, expired",
	76021: "cgi_path not found, please check",
	76022: "could not use this cgi_path，no permission",
}

// mpErr returns the *wxkit.APIError of code with the platform's errmsg.
func mpErr(code int) *wxkit.APIError {
	if m, ok := mpErrMsgs[code]; ok {
		return &wxkit.APIError{ErrCode: code, ErrMsg: m}
	}
	return apiErr(code)
}

// mpErrf returns code with a custom errmsg (the platform often names the
// offending field, as in "argument invalid! data.thing1.value invalid").
func mpErrf(code int, msg string) *wxkit.APIError { return &wxkit.APIError{ErrCode: code, ErrMsg: msg} }

// okBody is the {"errcode":0,"errmsg":"ok"} answer.
var okBody = errBody{ErrCode: 0, ErrMsg: "ok"}

// mpCall starts an Official Account API call: it checks the method and the
// access_token and, for POST, reads the JSON body into v (nil: no body).
// It answers the error itself and returns nil when the call must stop.
// Empty bodies give 44002, bodies that are not JSON 47001.
func (e *Emulator) mpCall(w http.ResponseWriter, r *http.Request, method string, v any) *app {
	a, err := e.requireToken(r)
	if err != nil {
		e.writeAPIError(w, err)
		return nil
	}
	if !e.requireMethod(w, r, method) {
		return nil
	}
	if v == nil {
		return a
	}
	b, rerr := readBody(r)
	if rerr != nil {
		e.writeAPIError(w, apiErr(47001))
		return nil
	}
	if len(b) == 0 {
		e.writeAPIError(w, apiErr(44002))
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		e.writeAPIError(w, apiErr(47001))
		return nil
	}
	return a
}
