package emulator

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxkit/wxkit/message"
)

// addImageMaterial adds a permanent image material to the test app and
// returns its media_id.
func addImageMaterial(t *testing.T, e *Emulator, tok string) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("media", "cover.jpg")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write([]byte("\xff\xd8 cover"))
	_ = mw.Close()
	req := httptest.NewRequestWithContext(t.Context(), "POST", "/cgi-bin/material/add_material?type=image&access_token="+tok, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	var out struct {
		MediaID string `json:"media_id"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.MediaID == "" {
		t.Fatalf("add_material = %s", w.Body.String())
	}
	return out.MediaID
}

// publishDocSample is the PUBLISHJOBFINISH sample of the platform's
// documentation (success).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Publish.html
const publishDocSample = `<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName><CreateTime>1481013459</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[PUBLISHJOBFINISH]]></Event><PublishEventInfo><publish_id>2247503051</publish_id><publish_status>0</publish_status><article_id><![CDATA[b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4]]></article_id><article_detail><count>1</count><item><idx>1</idx><article_url><![CDATA[ARTICLE_URL]]></article_url></item></article_detail></PublishEventInfo></xml>`

// TestPublishJobFinishShape: the PUBLISHJOBFINISH the emulator pushes
// after freepublish/submit has the elements of the documented sample, in
// the same order, and reaches the account even when its first user is
// blacklisted (it is about the account, not the user).
func TestPublishJobFinishShape(t *testing.T) {
	t.Parallel()
	e, tok, user, _ := platformEventSetup(t)
	r := call(t, e, "POST", "/cgi-bin/tags/members/batchblacklist?access_token="+tok, `{"openid_list":["`+user+`"]}`)
	wantErr0(t, "batchblacklist", r)
	cover := addImageMaterial(t, e, tok)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequestWithContext(t.Context(), "POST", "/cgi-bin/draft/add?access_token="+tok,
		bytes.NewReader([]byte(`{"articles":[{"title":"T","content":"<p>x</p>","thumb_media_id":"`+cover+`"}]}`))))
	var d struct {
		MediaID string `json:"media_id"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil || d.MediaID == "" {
		t.Fatalf("draft/add = %s", w.Body.String())
	}
	wantErr0(t, "freepublish/submit", call(t, e, "POST", "/cgi-bin/freepublish/submit?access_token="+tok, `{"media_id":"`+d.MediaID+`"}`))
	got := pushedEvents(t, e, eventPublishJobFinish)
	if len(got) != 1 {
		t.Fatalf("PUBLISHJOBFINISH pushed %d times, want 1", len(got))
	}
	if diff := cmp.Diff(elementPaths(t, publishDocSample), elementPaths(t, got[0])); diff != "" {
		t.Errorf("PUBLISHJOBFINISH elements differ from the documented sample (-doc +emulator):\n%s", diff)
	}
	m, err := message.Parse([]byte(got[0]))
	if err != nil || m.PublishEventInfo == nil || m.PublishEventInfo.PublishStatus != 0 || m.PublishEventInfo.ArticleDetail.Count != 1 {
		t.Errorf("message.Parse(PUBLISHJOBFINISH) = %+v, %v", m, err)
	}
}

// TestDraftPublishRoutesBadInput: the POST routes of drafts, publishing
// and material lists answer 44002 to an empty body and 47001 to one that
// is not JSON, and drafts and publishing answer 48001 to a Mini Program.
func TestDraftPublishRoutesBadInput(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	tok := fetchToken(t, e)
	mpTok := appToken(t, e, mpAppID, mpSecret)
	posts := []string{
		"/cgi-bin/draft/add", "/cgi-bin/draft/get", "/cgi-bin/draft/update", "/cgi-bin/draft/delete", "/cgi-bin/draft/batchget",
		"/cgi-bin/freepublish/submit", "/cgi-bin/freepublish/get", "/cgi-bin/freepublish/delete",
		"/cgi-bin/freepublish/getarticle", "/cgi-bin/freepublish/batchget", "/cgi-bin/material/batchget_material",
	}
	for _, p := range posts {
		wantErr(t, p+" (empty)", call(t, e, "POST", p+"?access_token="+tok, ""), 44002)
		wantErr(t, p+" (not JSON)", call(t, e, "POST", p+"?access_token="+tok, "{"), 47001)
		wantErr(t, p+" (GET)", call(t, e, "GET", p+"?access_token="+tok, ""), 43002)
		if p != "/cgi-bin/material/batchget_material" {
			wantErr(t, p+" (Mini Program)", call(t, e, "POST", p+"?access_token="+mpTok, `{"offset":0,"count":1}`), 48001)
		}
	}
	wantErr(t, "draft/count (Mini Program)", call(t, e, "GET", "/cgi-bin/draft/count?access_token="+mpTok, ""), 48001)
	wantErr(t, "draft/count (POST)", call(t, e, "POST", "/cgi-bin/draft/count?access_token="+tok, "{}"), 43001)
	wantErr(t, "uploadimg (no file)", call(t, e, "POST", "/cgi-bin/media/uploadimg?access_token="+tok, ""), 41005)
}
