package emulator

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

func init() {
	handle("/cgi-bin/draft/add", (*Emulator).serveDraftAdd)
	handle("/cgi-bin/draft/get", (*Emulator).serveDraftGet)
	handle("/cgi-bin/draft/update", (*Emulator).serveDraftUpdate)
	handle("/cgi-bin/draft/delete", (*Emulator).serveDraftDelete)
	handle("/cgi-bin/draft/count", (*Emulator).serveDraftCount)
	handle("/cgi-bin/draft/batchget", (*Emulator).serveDraftBatchGet)
}

// Limits of an article (draft/add, draft/update), in characters.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Add_draft.html
const (
	articleMaxTitle     = 32
	articleMaxAuthor    = 16
	articleMaxDigest    = 128
	articleMaxContent   = 20000   // characters ("必须少于2万字符")
	articleMaxBytes     = 1 << 20 // and under 1 MB
	articleMaxSourceURL = 1024    // bytes (1 kb)
	articleDefaultCut   = 54      // digest taken from the text when empty
	draftMaxArticles    = 8
)

// draftArticle is one article of a draft or of a published message, as
// the APIs carry it.
type draftArticle struct {
	ArticleType        string          `json:"article_type,omitempty"`
	Title              string          `json:"title"`
	Author             string          `json:"author"`
	Digest             string          `json:"digest"`
	Content            string          `json:"content"`
	ContentSourceURL   string          `json:"content_source_url"`
	ThumbMediaID       string          `json:"thumb_media_id"`
	ShowCoverPic       *int            `json:"show_cover_pic,omitempty"`
	NeedOpenComment    int             `json:"need_open_comment"`
	OnlyFansCanComment int             `json:"only_fans_can_comment"`
	PicCrop2351        string          `json:"pic_crop_235_1,omitempty"`
	PicCrop11          string          `json:"pic_crop_1_1,omitempty"`
	ImageInfo          json.RawMessage `json:"image_info,omitempty"`
	URL                string          `json:"url,omitempty"`
	ThumbURL           string          `json:"thumb_url,omitempty"`
	IsDeleted          bool            `json:"is_deleted"`
}

// draft is one draft of the drafts box (草稿箱).
type draft struct {
	mediaID  string
	articles []draftArticle
	updated  time.Time
	seq      int64 // order of the last change
}

// draftState is the per-app drafts box (guarded by app.mu).
type draftState struct {
	drafts map[string]*draft
	seq    int64
}

// draftsOf returns the drafts box of a. a.mu must be held.
func draftsOf(a *app) *draftState {
	st := appExt[draftState](a, "mp_draft")
	if st.drafts == nil {
		st.drafts = map[string]*draft{}
	}
	return st
}

var (
	reScript  = regexp.MustCompile(`(?is)<script\b.*?</script\s*>|<script\b[^>]*/?>`)
	reImgTag  = regexp.MustCompile(`(?i)<img\b[^>]*>`)
	reImgSrc  = regexp.MustCompile(`(?i)\bsrc\s*=\s*["']([^"']*)["']`)
	reAnyTag  = regexp.MustCompile(`(?s)<[^>]*>`)
	reSpaces  = regexp.MustCompile(`\s+`)
	reOnEvent = regexp.MustCompile(`(?i)\s+on[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	reJSURL   = regexp.MustCompile(`(?i)javascript\s*:`)
)

// cleanContent removes what the platform removes from an article's HTML:
// scripts and event handlers ("此处会去除JS"), and images that do not come
// from media/uploadimg or a permanent image ("外部图片url将被过滤").
func cleanContent(html string) string {
	html = reScript.ReplaceAllString(html, "")
	html = reOnEvent.ReplaceAllString(html, "")
	html = reJSURL.ReplaceAllString(html, "")
	return reImgTag.ReplaceAllStringFunc(html, func(tag string) string {
		m := reImgSrc.FindStringSubmatch(tag)
		if m == nil || !strings.Contains(m[1], "/mmbiz_jpg/") && !strings.Contains(m[1], "/mmbiz_png/") {
			return ""
		}
		return tag
	})
}

// plainText returns the text of html, tags removed and spaces collapsed.
func plainText(html string) string {
	return strings.TrimSpace(reSpaces.ReplaceAllString(reAnyTag.ReplaceAllString(html, " "), " "))
}

// checkArticle validates and normalises one article of a draft with n
// articles. Errors: 45003 title empty or over 32 characters, 45110 author
// over 16, 45004 digest over 128, 45002 content over 20000 characters or
// 1 MB, 45005 content_source_url over 1 KB, 40007 a thumb_media_id that is
// not a permanent image or thumb (required for news), 40035 an unknown
// article_type, a comment flag other than 0 or 1, or a newspic article
// whose image_info names no permanent image.
func checkArticle(a *app, art *draftArticle, n int) error {
	switch art.ArticleType {
	case "", "news", "newspic":
	default:
		return mpErrf(40035, "invalid args, article_type must be news or newspic")
	}
	if art.Title == "" || utf8.RuneCountInString(art.Title) > articleMaxTitle {
		return mpErr(45003)
	}
	if utf8.RuneCountInString(art.Author) > articleMaxAuthor {
		return mpErr(45110)
	}
	if utf8.RuneCountInString(art.Digest) > articleMaxDigest {
		return mpErr(45004)
	}
	if utf8.RuneCountInString(art.Content) > articleMaxContent || len(art.Content) > articleMaxBytes {
		return mpErr(45002)
	}
	if len(art.ContentSourceURL) > articleMaxSourceURL {
		return mpErr(45005)
	}
	if art.NeedOpenComment&^1 != 0 || art.OnlyFansCanComment&^1 != 0 {
		return mpErrf(40035, "invalid args, need_open_comment and only_fans_can_comment are 0 or 1")
	}
	media := mediaOf(a)
	isImage := func(id string) bool {
		m := media.perm[id]
		return m != nil && (m.typ == "image" || m.typ == "thumb")
	}
	if art.ArticleType == "newspic" {
		var info struct {
			ImageList []struct {
				ImageMediaID string `json:"image_media_id"`
			} `json:"image_list"`
		}
		if json.Unmarshal(art.ImageInfo, &info) != nil || len(info.ImageList) == 0 {
			return mpErrf(40035, "invalid args, image_info.image_list is required for newspic")
		}
		for _, im := range info.ImageList {
			if !isImage(im.ImageMediaID) {
				return apiErr(40007)
			}
		}
		if art.ThumbMediaID != "" && !isImage(art.ThumbMediaID) {
			return apiErr(40007)
		}
	} else {
		art.ArticleType = "news"
		if !isImage(art.ThumbMediaID) {
			return apiErr(40007)
		}
	}
	art.Content = cleanContent(art.Content)
	if n > 1 {
		art.Digest = ""
	} else if art.Digest == "" {
		text := []rune(plainText(art.Content))
		art.Digest = string(text[:min(len(text), articleDefaultCut)])
	}
	if art.ShowCoverPic == nil {
		one := 1
		art.ShowCoverPic = &one
	}
	if m := media.perm[art.ThumbMediaID]; m != nil {
		art.ThumbURL = m.url
	}
	art.URL, art.IsDeleted = "", false
	return nil
}

// checkArticles validates the articles of a new draft: 44003 none, 45008
// more than 8, then checkArticle.
func checkArticles(a *app, arts []draftArticle) error {
	if len(arts) == 0 {
		return mpErr(44003)
	}
	if len(arts) > draftMaxArticles {
		return mpErr(45008)
	}
	for i := range arts {
		if err := checkArticle(a, &arts[i], len(arts)); err != nil {
			return err
		}
	}
	return nil
}

// draftPreviewURL is the address of a draft's article on the emulator.
func draftPreviewURL(origin, mediaID string, idx int) string {
	return origin + "/s?tempkey=" + mediaID + "&idx=" + itoa64(int64(idx))
}

// newsItems returns the articles of d as draft/get answers them, with
// their preview addresses.
func (d *draft) newsItems(origin string) []draftArticle {
	out := slices.Clone(d.articles)
	for i := range out {
		out[i].URL = draftPreviewURL(origin, d.mediaID, i+1)
	}
	return out
}

// serveDraftAdd serves POST /cgi-bin/draft/add {"articles":[...]}: a new
// draft of 1..8 articles (see checkArticle for the limits and errcodes:
// thumb_media_id must be a permanent image, else 40007). Scripts and
// images not uploaded through media/uploadimg are removed from the
// content; a single article without a digest gets the first 54
// characters of its text. It answers {"media_id"}. 48001 for a Mini
// Program.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Add_draft.html
func (e *Emulator) serveDraftAdd(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Articles []draftArticle `json:"articles"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := checkArticles(a, req.Articles); err != nil {
		e.writeAPIError(w, err)
		return
	}
	st := draftsOf(a)
	st.seq++
	d := &draft{mediaID: randomString(43, tokenAlphabet), articles: req.Articles, updated: e.Now(), seq: st.seq}
	st.drafts[d.mediaID] = d
	writeJSON(w, map[string]string{"media_id": d.mediaID})
}

// draftOf reads {"media_id"} and returns the draft (40007 if unknown).
// a.mu must be held.
func draftOf(a *app, mediaID string) (*draft, error) {
	if mediaID == "" {
		return nil, mpErr(41006)
	}
	d := draftsOf(a).drafts[mediaID]
	if d == nil {
		return nil, apiErr(40007)
	}
	return d, nil
}

// takeDraft removes the draft mediaID from the box and returns it (40007
// if unknown): a draft leaves the box once published or mass-sent. a.mu
// must be held.
func takeDraft(a *app, mediaID string) (*draft, error) {
	d, err := draftOf(a, mediaID)
	if err != nil {
		return nil, err
	}
	delete(draftsOf(a).drafts, mediaID)
	return d, nil
}

// serveDraftGet serves POST /cgi-bin/draft/get {"media_id"}:
// {"news_item":[article...]}, each with its preview "url". 40007 for an
// unknown draft (one published or deleted too).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Get_draft.html
func (e *Emulator) serveDraftGet(w http.ResponseWriter, r *http.Request) {
	var req mediaIDRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	d, err := draftOf(a, req.MediaID)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	writeJSON(w, map[string]any{"news_item": d.newsItems(requestOrigin(r))})
}

// serveDraftUpdate serves POST /cgi-bin/draft/update {"media_id","index",
// "articles":{...}}: replaces the article at index (from 0). Errors: 40007
// an unknown draft, 40035 an index outside the draft, then those of
// draft/add for the article.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Update_draft.html
func (e *Emulator) serveDraftUpdate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		MediaID  string        `json:"media_id"`
		Index    int           `json:"index"`
		Articles *draftArticle `json:"articles"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	d, err := draftOf(a, req.MediaID)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	if req.Index < 0 || req.Index >= len(d.articles) {
		e.writeAPIError(w, mpErrf(40035, "invalid args, index out of the draft's articles"))
		return
	}
	if req.Articles == nil {
		e.writeAPIError(w, mpErr(44003))
		return
	}
	art := *req.Articles
	if err := checkArticle(a, &art, len(d.articles)); err != nil {
		e.writeAPIError(w, err)
		return
	}
	st := draftsOf(a)
	st.seq++
	d.articles[req.Index], d.updated, d.seq = art, e.Now(), st.seq
	writeJSON(w, okBody)
}

// serveDraftDelete serves POST /cgi-bin/draft/delete {"media_id"}; 40007
// for an unknown draft.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Delete_draft.html
func (e *Emulator) serveDraftDelete(w http.ResponseWriter, r *http.Request) {
	var req mediaIDRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := draftOf(a, req.MediaID); err != nil {
		e.writeAPIError(w, err)
		return
	}
	delete(draftsOf(a).drafts, req.MediaID)
	writeJSON(w, okBody)
}

// serveDraftCount serves GET /cgi-bin/draft/count: {"total_count"}.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Count_drafts.html
func (e *Emulator) serveDraftCount(w http.ResponseWriter, r *http.Request) {
	a := e.mpCall(w, r, http.MethodGet, nil)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	a.mu.Lock()
	n := len(draftsOf(a).drafts)
	a.mu.Unlock()
	writeJSON(w, map[string]int{"total_count": n})
}

// listRequest is the body of draft/batchget and freepublish/batchget.
type listRequest struct {
	Offset    int      `json:"offset"`
	Count     int      `json:"count"`
	NoContent flexFlag `json:"no_content"` // 0/1, or a boolean as some SDKs send
}

// check answers 40035 for count outside 1..20, a negative offset or a
// no_content other than 0 or 1.
func (l listRequest) check() error {
	if l.Count < 1 || l.Count > batchGetMaxCount || l.Offset < 0 || l.NoContent&^1 != 0 {
		return mpErr(40035)
	}
	return nil
}

// stripContent empties the content of arts when no_content is 1.
func stripContent(arts []draftArticle, noContent flexFlag) []draftArticle {
	if noContent == 1 {
		for i := range arts {
			arts[i].Content = ""
		}
	}
	return arts
}

// serveDraftBatchGet serves POST /cgi-bin/draft/batchget {"offset",
// "count","no_content"}: the drafts, last changed first,
// {"total_count","item_count","item":[{"media_id","content":{"news_item"},
// "update_time"}]}; no_content 1 leaves out the articles' content. 40035
// for count outside 1..20.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Draft_Box/Get_draft_list.html
func (e *Emulator) serveDraftBatchGet(w http.ResponseWriter, r *http.Request) {
	var req listRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	if err := req.check(); err != nil {
		e.writeAPIError(w, err)
		return
	}
	origin := requestOrigin(r)
	a.mu.Lock()
	defer a.mu.Unlock()
	all := make([]*draft, 0, len(draftsOf(a).drafts))
	for _, d := range draftsOf(a).drafts {
		all = append(all, d)
	}
	slices.SortFunc(all, func(x, y *draft) int { return int(y.seq - x.seq) })
	type item struct {
		MediaID string `json:"media_id"`
		Content struct {
			NewsItem []draftArticle `json:"news_item"`
		} `json:"content"`
		UpdateTime int64 `json:"update_time"`
	}
	items := []item{}
	for i := req.Offset; i < len(all) && len(items) < req.Count; i++ {
		it := item{MediaID: all[i].mediaID, UpdateTime: all[i].updated.Unix()}
		it.Content.NewsItem = stripContent(all[i].newsItems(origin), req.NoContent)
		items = append(items, it)
	}
	writeJSON(w, map[string]any{"total_count": len(all), "item_count": len(items), "item": items})
}
