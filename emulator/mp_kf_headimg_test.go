package emulator

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"testing"
)

// postHeadImg posts a multipart form with the given fields (field name →
// content) to uploadheadimg and returns the answer.
func postHeadImg(t *testing.T, e *Emulator, tok, account string, parts map[string]string) apiReply {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for field, content := range parts {
		fw, err := mw.CreateFormFile(field, "head.jpg")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write([]byte(content))
	}
	_ = mw.Close()
	target := "/customservice/kfaccount/uploadheadimg?" + url.Values{"access_token": {tok}, "kf_account": {account}}.Encode()
	req := httptest.NewRequestWithContext(t.Context(), "POST", target, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	var r apiReply
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("uploadheadimg: answer is not JSON: %q", w.Body.String())
	}
	return r
}

func TestKfUploadHeadImgForm(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tok := fetchToken(t, e)
	if r := call(t, e, "POST", "/customservice/kfaccount/add?access_token="+tok, `{"kf_account":"kf1@gh_test","nickname":"客服"}`); r.ErrCode != 0 {
		t.Fatalf("kfaccount/add = %+v", r)
	}
	jpeg := "\xff\xd8\xff\xe0 a jpeg"
	if r := postHeadImg(t, e, tok, "kf1@gh_test", map[string]string{"media": jpeg}); r.ErrCode != 0 {
		t.Fatalf("uploadheadimg = %+v, want ok", r)
	}
	wantErr(t, "no media field", postHeadImg(t, e, tok, "kf1@gh_test", map[string]string{"file": jpeg}), 41005)
	wantErr(t, "no form", call(t, e, "POST", "/customservice/kfaccount/uploadheadimg?kf_account=kf1%40gh_test&access_token="+tok, `{"media":"x"}`), 41005)
	wantErr(t, "GET", call(t, e, "GET", "/customservice/kfaccount/uploadheadimg?kf_account=kf1%40gh_test&access_token="+tok, ""), 43002)
	wantErr(t, "no kf_account", postHeadImg(t, e, tok, "", map[string]string{"media": jpeg}), 65401)
}
