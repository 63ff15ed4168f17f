package wxkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxkit/wxkit/internal/corpus"
)

// FuzzDecodeResponse checks DecodeResponse on any body against a generic
// decode with encoding/json:
//   - it never panics; a body that is not JSON, or not an object (null
//     aside), or whose errcode is not an integer or errmsg not a string, is
//     a decode error naming the call, never an *APIError;
//   - a non-zero integer errcode gives an *APIError with that errcode, the
//     errmsg as sent, the call's method and path, and a RID and Reason
//     taken from that errmsg;
//   - otherwise the body decodes into v exactly as json.Unmarshal does.
func FuzzDecodeResponse(f *testing.F) {
	for _, p := range corpus.Glob(f, "api/*.json") {
		f.Add(corpus.ReadFile(f, "api", filepath.Base(p)))
	}
	f.Add([]byte(`{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest rid: 5f2a1b3c-6d7e8f90-12345678"}`))
	f.Add([]byte(`{"errcode":45009,"errmsg":"reach max api daily quota limit hint: [gg0Dza0043vr22!]"}`))
	f.Add([]byte(`{"errcode":"1","errmsg":2}`))
	f.Add([]byte(`{"ERRCODE":1,"errcode":0}`))
	f.Add([]byte(`{"errcode":1e2}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[1]`))
	f.Add([]byte(`{"errcode":-1,"errmsg":"system error"} trailing`))
	f.Fuzz(func(t *testing.T, body []byte) {
		const method, path = "GET", "cgi-bin/fuzz"
		var v map[string]any
		err := DecodeResponse(body, method, path, &v)
		ae, isAPI := errors.AsType[*APIError](err)
		wantDecodeErr := func(why string) {
			t.Helper()
			if err == nil || isAPI || !strings.HasPrefix(err.Error(), "wxkit: "+method+" "+path+": decode reply: ") {
				t.Fatalf("DecodeResponse(%q) = %v; want a decode error (%s)", body, err, why)
			}
		}
		if !json.Valid(body) {
			wantDecodeErr("not JSON")
			return
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var top any
		if derr := dec.Decode(&top); derr != nil {
			t.Fatalf("json.Valid but undecodable: %v", derr)
		}
		if top == nil {
			if err != nil || v != nil {
				t.Fatalf("DecodeResponse(null) = %v, %v", v, err)
			}
			return
		}
		obj, ok := top.(map[string]any)
		if !ok {
			wantDecodeErr("not an object")
			return
		}
		if foldedKeys(obj, "errcode") > 1 || foldedKeys(obj, "errmsg") > 1 ||
			hasFoldedOnly(obj, "errcode") || hasFoldedOnly(obj, "errmsg") {
			return // encoding/json matches field names without case: not modelled here
		}
		code, msg := int64(0), ""
		switch c := obj["errcode"].(type) {
		case nil:
		case json.Number:
			n, perr := strconv.ParseInt(string(c), 10, strconv.IntSize)
			if perr != nil {
				wantDecodeErr("errcode not an int")
				return
			}
			code = n
		default:
			wantDecodeErr("errcode not a number")
			return
		}
		switch m := obj["errmsg"].(type) {
		case nil:
		case string:
			msg = m
		default:
			wantDecodeErr("errmsg not a string")
			return
		}
		if code != 0 {
			if !isAPI || int64(ae.ErrCode) != code || ae.ErrMsg != msg || ae.Method != method || ae.Path != path {
				t.Fatalf("DecodeResponse(%q) = %#v; want an *APIError with errcode %d, errmsg %q", body, err, code, msg)
			}
			if ae.RID != "" && !strings.Contains(msg, ae.RID) || !strings.HasPrefix(msg, ae.Reason()) {
				t.Fatalf("RID %q, Reason %q not taken from errmsg %q", ae.RID, ae.Reason(), msg)
			}
			if !strings.Contains(ae.Error(), strconv.FormatInt(code, 10)) || !strings.Contains(ae.Error(), path) {
				t.Fatalf("Error() = %q does not name errcode %d and the call", ae.Error(), code)
			}
			return
		}
		var want map[string]any
		if uerr := json.Unmarshal(body, &want); uerr != nil {
			t.Fatalf("json.Unmarshal(%q) = %v", body, uerr)
		}
		if err != nil {
			t.Fatalf("DecodeResponse(%q) = %v; json.Unmarshal accepts it", body, err)
		}
		if d := cmp.Diff(want, v); d != "" {
			t.Fatalf("DecodeResponse(%q) decoded (-json.Unmarshal +DecodeResponse):\n%s", body, d)
		}
	})
}

// foldedKeys counts the keys of obj equal to name without case.
func foldedKeys(obj map[string]any, name string) int {
	n := 0
	for k := range obj {
		if strings.EqualFold(k, name) {
			n++
		}
	}
	return n
}

// hasFoldedOnly reports whether obj has name in another case but not as is.
func hasFoldedOnly(obj map[string]any, name string) bool {
	_, exact := obj[name]
	return !exact && foldedKeys(obj, name) > 0
}
