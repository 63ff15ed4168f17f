package interop

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silenceper/wechat/v2/officialaccount/draft"
	"github.com/silenceper/wechat/v2/officialaccount/freepublish"
	"github.com/silenceper/wechat/v2/officialaccount/material"
	"github.com/silenceper/wechat/v2/util"
)

// TestSilenceperDraftAndPublish: the SDK's material list, drafts box and
// publishing against the emulator: a cover image, a draft that is listed,
// updated and published, the job's status and the published article,
// which the emulator serves at its article_url.
func TestSilenceperDraftAndPublish(t *testing.T) {
	newEmulator(t)
	oa := newOfficialAccount(false)
	mat := oa.GetMaterial()
	cover, coverURL, err := mat.AddMaterialFromReader(material.MediaTypeImage, "cover.png", bytes.NewReader(testPNG(t)))
	if err != nil {
		t.Fatalf("AddMaterialFromReader: %v", err)
	}
	list, err := mat.BatchGetMaterial(material.PermanentMaterialTypeImage, 0, 10)
	if err != nil {
		t.Fatalf("BatchGetMaterial: %v", err)
	}
	if list.TotalCount != 1 || len(list.Item) != 1 || list.Item[0].MediaID != cover || list.Item[0].URL != coverURL {
		t.Errorf("BatchGetMaterial = %+v, want the cover %s", list, cover)
	}

	// An image for the article's body (media/uploadimg): the content keeps
	// it and drops an image from elsewhere ("外部图片url将被过滤").
	bodyImg := filepath.Join(t.TempDir(), "body.png")
	if err := os.WriteFile(bodyImg, testPNG(t), 0o600); err != nil {
		t.Fatal(err)
	}
	imgURL, err := mat.ImageUpload(bodyImg)
	if err != nil || imgURL == "" {
		t.Fatalf("ImageUpload = %q, %v", imgURL, err)
	}
	if got, err := util.HTTPGetContext(t.Context(), imgURL); err != nil || !bytes.Equal(got, testPNG(t)) {
		t.Errorf("GET the uploadimg url = %d bytes, %v, want the image", len(got), err)
	}

	drafts := oa.GetDraft()
	content := `<p>正文</p><img src="` + imgURL + `"><img src="https://example.com/x.png">`
	art := &draft.Article{Title: "互通测试", Author: "wxkit", Content: content, ThumbMediaID: cover, NeedOpenComment: 1}
	id, err := drafts.AddDraft([]*draft.Article{art})
	if err != nil || id == "" {
		t.Fatalf("AddDraft = %q, %v", id, err)
	}
	art.Title = "互通测试（改）"
	if err := drafts.UpdateDraft(art, id, 0); err != nil {
		t.Fatalf("UpdateDraft: %v", err)
	}
	got, err := drafts.GetDraft(id)
	if err != nil || len(got) != 1 || got[0].Title != "互通测试（改）" || got[0].NeedOpenComment != 1 {
		t.Fatalf("GetDraft = %+v, %v", got, err)
	}
	if !strings.Contains(got[0].Content, imgURL) || strings.Contains(got[0].Content, "example.com") {
		t.Errorf("draft content = %q, want the uploadimg image kept and the outside one dropped", got[0].Content)
	}
	if n, err := drafts.CountDraft(); err != nil || n != 1 {
		t.Errorf("CountDraft = %d, %v; want 1", n, err)
	}
	page, err := drafts.PaginateDraft(0, 10, true) // no_content sent as a JSON boolean
	if err != nil || page.TotalCount != 1 || page.Item[0].MediaID != id || page.Item[0].Content.NewsItem[0].Content != "" {
		t.Errorf("PaginateDraft = %+v, %v; want the draft without content", page, err)
	}

	fp := oa.GetFreePublish()
	publishID, err := fp.Publish(id) // publish_id decoded as int64
	if err != nil || publishID == 0 {
		t.Fatalf("Publish = %d, %v", publishID, err)
	}
	st, err := fp.SelectStatus(publishID)
	if err != nil || st.PublishStatus != freepublish.PublishStatusSuccess || st.ArticleID == "" || len(st.ArticleDetail.Items) != 1 {
		t.Fatalf("SelectStatus = %+v, %v; want success with one article", st, err)
	}
	arts, err := fp.First(st.ArticleID)
	if err != nil || len(arts) != 1 || arts[0].Title != "互通测试（改）" || arts[0].URL != st.ArticleDetail.Items[0].ArticleURL {
		t.Errorf("First = %+v, %v", arts, err)
	}
	page2, err := fp.Paginate(0, 10, false)
	if err != nil || page2.TotalCount != 1 || page2.Item[0].ArticleID != st.ArticleID {
		t.Errorf("Paginate = %+v, %v", page2, err)
	}
	body, err := util.HTTPGetContext(t.Context(), st.ArticleDetail.Items[0].ArticleURL)
	if err != nil || !strings.Contains(string(body), "互通测试（改）") {
		t.Errorf("GET article_url = %v, want the article page", err)
	}
	if err := fp.Delete(st.ArticleID, 0); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if st, err := fp.SelectStatus(publishID); err != nil || st.PublishStatus != freepublish.PublishStatusUserDeleted {
		t.Errorf("SelectStatus after Delete = %+v, %v; want status 5", st, err)
	}
}
