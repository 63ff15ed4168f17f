package webhook

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// query holds the parameters WeChat puts on a push URL, parsed once from
// the raw query without building a url.Values map.
type query struct {
	signature    string
	timestamp    string
	nonce        string
	openID       string
	echostr      string
	encryptType  string
	msgSignature string
	ts           int64 // timestamp, parsed
}

var errBadQuery = errors.New("malformed query")

// parseQuery reads the parameters this package uses; the first occurrence
// of each wins (as with url.Values.Get) and other keys are ignored. Values
// are unescaped only when they contain '%' or '+'.
func parseQuery(raw string) (query, error) {
	var q query
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		var dst *string
		switch k {
		case "signature":
			dst = &q.signature
		case "timestamp":
			dst = &q.timestamp
		case "nonce":
			dst = &q.nonce
		case "openid":
			dst = &q.openID
		case "echostr":
			dst = &q.echostr
		case "encrypt_type":
			dst = &q.encryptType
		case "msg_signature":
			dst = &q.msgSignature
		default:
			continue
		}
		if *dst != "" {
			continue
		}
		if strings.IndexByte(v, '%') >= 0 || strings.IndexByte(v, '+') >= 0 {
			u, err := url.QueryUnescape(v)
			if err != nil {
				return q, errBadQuery
			}
			v = u
		}
		*dst = v
	}
	return q, nil
}

// parseTimestamp parses the Unix-seconds timestamp parameter.
func (q *query) parseTimestamp() bool {
	if q.timestamp == "" || len(q.timestamp) > 19 {
		return false
	}
	ts, err := strconv.ParseInt(q.timestamp, 10, 64)
	if err != nil || ts < 0 {
		return false
	}
	q.ts = ts
	return true
}
