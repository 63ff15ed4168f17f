package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

func init() {
	handle("/cgi-bin/freepublish/submit", (*Emulator).servePublishSubmit)
	handle("/cgi-bin/freepublish/get", (*Emulator).servePublishGet)
	handle("/cgi-bin/freepublish/delete", (*Emulator).servePublishDelete)
	handle("/cgi-bin/freepublish/getarticle", (*Emulator).servePublishGetArticle)
	handle("/cgi-bin/freepublish/batchget", (*Emulator).servePublishBatchGet)
	handle("/s", (*Emulator).serveArticlePage)
	// The outcome of a publish reaches the account whoever its user is.
	platformEvents = append(platformEvents, eventPublishJobFinish)
}

// eventPublishJobFinish is pushed when a freepublish/submit job ends.
const eventPublishJobFinish EventType = "PUBLISHJOBFINISH"

// Publish statuses (publish_status of freepublish/get and PUBLISHJOBFINISH).
const (
	publishOK            = 0
	publishFailed        = 3 // 常规失败
	publishRejected      = 4 // 平台审核不通过
	publishAllDeleted    = 5 // 成功后用户删除所有文章
	publishReviewKeyword = "违规"
)

// publishJob is one freepublish/submit.
type publishJob struct {
	publishID string
	status    int
	pub       *publication // on success
	failIdx   []int
}

// publication is a published message (图文) of one or more articles.
type publication struct {
	articleID string
	msgDataID int64
	biz, sn   string
	origin    string // scheme://host its addresses were handed out on
	articles  []draftArticle
	created   time.Time
	updated   time.Time
	seq       int64
}

// publishState is the per-app publishing state (guarded by app.mu).
type publishState struct {
	jobs   map[string]*publishJob
	pubs   map[string]*publication // by article_id
	nextID int64                   // last publish_id / msg_data_id given
	seq    int64
}

// publishOf returns the publishing state of a. a.mu must be held.
func publishOf(a *app) *publishState {
	st := appExt[publishState](a, "mp_publish")
	if st.jobs == nil {
		st.jobs = map[string]*publishJob{}
		st.pubs = map[string]*publication{}
		st.nextID = int64(randomInt(2247483000, 2247499999))
	}
	return st
}

// bizOf is the __biz of a's article addresses (base64 of a number, as on
// the platform).
func bizOf(a *app) string {
	return base64.StdEncoding.EncodeToString([]byte(strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(a.cfg.AppID))), 10)))
}

// articleURL is the permanent address of article idx (from 1) of p.
func (p *publication) articleURL(idx int) string {
	return fmt.Sprintf("%s/s?__biz=%s&mid=%d&idx=%d&sn=%s", p.origin, p.biz, p.msgDataID, idx, p.sn)
}

// newsItems returns the articles of p with their addresses.
func (p *publication) newsItems() []draftArticle {
	out := slices.Clone(p.articles)
	for i := range out {
		out[i].URL = p.articleURL(i + 1)
	}
	return out
}

// allDeleted reports whether every article of p was deleted.
func (p *publication) allDeleted() bool {
	return !slices.ContainsFunc(p.articles, func(a draftArticle) bool { return !a.IsDeleted })
}

// reviewArticles is the emulator's publish check: an article whose title
// or text contains 违规 is rejected by review (status 4), an article with
// no text and no image fails (status 3). It returns the status and the
// failing articles (from 1).
func reviewArticles(arts []draftArticle) (int, []int) {
	status := publishOK
	var fail []int
	for i, art := range arts {
		switch {
		case strings.Contains(art.Title, publishReviewKeyword) || strings.Contains(plainText(art.Content), publishReviewKeyword):
			status = publishRejected
			fail = append(fail, i+1)
		case art.ArticleType != "newspic" && plainText(art.Content) == "" && !reImgTag.MatchString(art.Content):
			if status == publishOK {
				status = publishFailed
			}
			fail = append(fail, i+1)
		}
	}
	return status, fail
}

// servePublishSubmit serves POST /cgi-bin/freepublish/submit {"media_id"}:
// publishes a draft, which leaves the drafts box. It answers {"errcode":0,
// "errmsg":"ok","publish_id","msg_data_id"}; the job ends at once and
// PUBLISHJOBFINISH is pushed to the account (FromUserName its first user)
// after the answer: publish_status 0 with article_id and article_detail
// (each article's address on the emulator, recorded for the article
// statistics as "<msg_data_id>_<idx>"), or, when the emulator's check
// fails (see reviewArticles), 4 or 3 with fail_idx. Errors: 41006 no
// media_id, 40007 an unknown draft, 48001 a Mini Program.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Publish.html
func (e *Emulator) servePublishSubmit(w http.ResponseWriter, r *http.Request) {
	var req mediaIDRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	now := e.Now()
	a.mu.Lock()
	d, err := takeDraft(a, req.MediaID)
	if err != nil {
		a.mu.Unlock()
		e.writeAPIError(w, err)
		return
	}
	st := publishOf(a)
	st.nextID++
	job := &publishJob{publishID: itoa64(st.nextID)}
	job.status, job.failIdx = reviewArticles(d.articles)
	var sent []SentArticle
	if job.status == publishOK {
		st.seq++
		p := &publication{
			articleID: randomString(43, tokenAlphabet), msgDataID: st.nextID, biz: bizOf(a),
			sn: randomString(32, "0123456789abcdef"), origin: requestOrigin(r),
			articles: slices.Clone(d.articles), created: now, updated: now, seq: st.seq,
		}
		job.pub = p
		st.pubs[p.articleID] = p
		for i, art := range p.articles {
			sent = append(sent, SentArticle{MsgID: fmt.Sprintf("%d_%d", p.msgDataID, i+1), Title: art.Title, SentAt: now})
		}
	}
	st.jobs[job.publishID] = job
	msgDataID := st.nextID
	ev := publishEventXML(job)
	a.mu.Unlock()
	for _, s := range sent {
		_ = e.RecordArticleSent(a.cfg.AppID, s)
	}
	e.queueEvent(a, PushRequest{RawXML: eventXML(eventPublishJobFinish, ev)})
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "publish_id": json.Number(job.publishID), "msg_data_id": msgDataID})
}

// publishEventXML is the <PublishEventInfo> of job's PUBLISHJOBFINISH.
func publishEventXML(job *publishJob) string {
	var x xmlBuilder
	x.b.WriteString("<PublishEventInfo>")
	x.num("publish_id", job.publishID)
	x.num("publish_status", strconv.Itoa(job.status))
	if p := job.pub; p != nil {
		x.cdata("article_id", p.articleID)
		x.b.WriteString("<article_detail>")
		x.num("count", strconv.Itoa(len(p.articles)))
		for i := range p.articles {
			x.b.WriteString("<item>")
			x.num("idx", strconv.Itoa(i+1))
			x.cdata("article_url", p.articleURL(i+1))
			x.b.WriteString("</item>")
		}
		x.b.WriteString("</article_detail>")
	}
	for _, i := range job.failIdx {
		x.num("fail_idx", strconv.Itoa(i))
	}
	x.b.WriteString("</PublishEventInfo>")
	return x.b.String()
}

type publishDetailItem struct {
	Idx        int    `json:"idx"`
	ArticleURL string `json:"article_url"`
}

// servePublishGet serves POST /cgi-bin/freepublish/get {"publish_id"}:
// {"publish_id","publish_status","article_id","article_detail":{"count",
// "item":[{"idx","article_url"}]},"fail_idx":[]}. Status 5 once every
// article was deleted. 40035 for an unknown publish_id (the platform's
// code is not documented).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Get_status.html
func (e *Emulator) servePublishGet(w http.ResponseWriter, r *http.Request) {
	var req struct {
		PublishID flexID `json:"publish_id"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	job := publishOf(a).jobs[string(req.PublishID)]
	if job == nil {
		e.writeAPIError(w, mpErrf(40035, "invalid args, unknown publish_id"))
		return
	}
	out := map[string]any{"publish_id": json.Number(job.publishID), "publish_status": job.status, "fail_idx": orEmpty(job.failIdx)}
	if p := job.pub; p != nil {
		items := []publishDetailItem{}
		for i, art := range p.articles {
			if !art.IsDeleted {
				items = append(items, publishDetailItem{Idx: i + 1, ArticleURL: p.articleURL(i + 1)})
			}
		}
		if p.allDeleted() {
			out["publish_status"] = publishAllDeleted
		}
		out["article_id"] = p.articleID
		out["article_detail"] = map[string]any{"count": len(items), "item": items}
	}
	writeJSON(w, out)
}

// orEmpty returns s, or an empty slice for nil (JSON [] rather than null).
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// publicationOf returns the publication of article_id (53600 if unknown).
// a.mu must be held.
func publicationOf(a *app, articleID string) (*publication, error) {
	p := publishOf(a).pubs[articleID]
	if p == nil {
		return nil, mpErr(53600)
	}
	return p, nil
}

// servePublishDelete serves POST /cgi-bin/freepublish/delete
// {"article_id","index"}: deletes article index (from 1) of a published
// message, or all of them for index 0 or absent. A deleted article's
// address answers 404 and it leaves freepublish/batchget once all are
// deleted. Errors: 53600 an unknown article_id, 40035 an index past the
// articles.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Delete_posts.html
func (e *Emulator) servePublishDelete(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ArticleID string `json:"article_id"`
		Index     int    `json:"index"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	p, err := publicationOf(a, req.ArticleID)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	if req.Index < 0 || req.Index > len(p.articles) {
		e.writeAPIError(w, mpErrf(40035, "invalid args, index out of the articles"))
		return
	}
	for i := range p.articles {
		if req.Index == 0 || req.Index == i+1 {
			p.articles[i].IsDeleted = true
		}
	}
	p.updated = e.Now()
	writeJSON(w, okBody)
}

// servePublishGetArticle serves POST /cgi-bin/freepublish/getarticle
// {"article_id"}: {"news_item":[article...]} with each article's "url" and
// "is_deleted". 53600 for an unknown article_id.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Get_article_from_id.html
func (e *Emulator) servePublishGetArticle(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ArticleID string `json:"article_id"`
	}
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	p, err := publicationOf(a, req.ArticleID)
	if err != nil {
		e.writeAPIError(w, err)
		return
	}
	writeJSON(w, map[string]any{"news_item": p.newsItems()})
}

// servePublishBatchGet serves POST /cgi-bin/freepublish/batchget
// {"offset","count","no_content"}: the published messages not wholly
// deleted, newest first, {"total_count","item_count","item":[{"article_id",
// "content":{"news_item","create_time","update_time"},"update_time"}]}.
// 40035 for count outside 1..20.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Get_publication_records.html
func (e *Emulator) servePublishBatchGet(w http.ResponseWriter, r *http.Request) {
	var req listRequest
	a := e.mpCall(w, r, http.MethodPost, &req)
	if a == nil || !e.requireOfficialAccount(w, a) {
		return
	}
	if err := req.check(); err != nil {
		e.writeAPIError(w, err)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var all []*publication
	for _, p := range publishOf(a).pubs {
		if !p.allDeleted() {
			all = append(all, p)
		}
	}
	slices.SortFunc(all, func(x, y *publication) int { return int(y.seq - x.seq) })
	type content struct {
		NewsItem   []draftArticle `json:"news_item"`
		CreateTime int64          `json:"create_time"`
		UpdateTime int64          `json:"update_time"`
	}
	type item struct {
		ArticleID  string  `json:"article_id"`
		Content    content `json:"content"`
		UpdateTime int64   `json:"update_time"`
	}
	items := []item{}
	for i := req.Offset; i < len(all) && len(items) < req.Count; i++ {
		p := all[i]
		items = append(items, item{ArticleID: p.articleID, UpdateTime: p.updated.Unix(),
			Content: content{NewsItem: stripContent(p.newsItems(), req.NoContent), CreateTime: p.created.Unix(), UpdateTime: p.updated.Unix()}})
	}
	writeJSON(w, map[string]any{"total_count": len(all), "item_count": len(items), "item": items})
}

var articlePage = template.Must(template.New("article").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title>
<style>body{max-width:677px;margin:0 auto;padding:20px 16px;font:17px/1.6 -apple-system,sans-serif;color:#333}
h1{font-size:22px;line-height:1.4}.meta{color:#888;font-size:15px}img{max-width:100%}.draft{color:#fa5151}</style></head>
<body><h1>{{.Title}}</h1>
<p class="meta">{{if .Draft}}<span class="draft">预览</span> {{end}}{{.Author}} {{.Account}}</p>
{{if .Cover}}<p><img src="{{.Cover}}" alt=""></p>{{end}}
<div id="js_content">{{.Content}}</div>
{{if .SourceURL}}<p><a href="{{.SourceURL}}">阅读原文</a></p>{{end}}
</body></html>`))

// serveArticlePage serves GET /s: a published article
// (?__biz&mid&idx&sn, as article_url and url give it) or a draft's
// preview (?tempkey&idx). Each view of a published article counts as a
// read in the article statistics (the reader is ?openid, else the app's
// first user). A deleted or unknown article answers 404.
func (e *Emulator) serveArticlePage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	idx, _ := strconv.Atoi(q.Get("idx"))
	if idx == 0 {
		idx = 1
	}
	var art *draftArticle
	var app *app
	var msgID string
	for _, id := range e.appOrder {
		a := e.apps[id]
		a.mu.Lock()
		if key := q.Get("tempkey"); key != "" {
			if d := draftsOf(a).drafts[key]; d != nil && idx <= len(d.articles) {
				c := d.articles[idx-1]
				art, app = &c, a
			}
		} else if mid, err := strconv.ParseInt(q.Get("mid"), 10, 64); err == nil {
			for _, p := range publishOf(a).pubs {
				if p.msgDataID == mid && p.sn == q.Get("sn") && idx <= len(p.articles) && !p.articles[idx-1].IsDeleted {
					c := p.articles[idx-1]
					art, app, msgID = &c, a, fmt.Sprintf("%d_%d", mid, idx)
				}
			}
		}
		a.mu.Unlock()
		if art != nil {
			break
		}
	}
	if art == nil {
		http.Error(w, "该内容已被发布者删除", http.StatusNotFound)
		return
	}
	if msgID != "" && r.Method == http.MethodGet {
		_, _ = e.RecordArticleEvent(app.cfg.AppID, ArticleEvent{User: q.Get("openid"), MsgID: msgID, Title: art.Title, Action: ArticleRead})
	}
	account := app.cfg.Name
	if account == "" {
		account = app.cfg.OriginalID
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = articlePage.Execute(w, map[string]any{
		"Title": art.Title, "Author": art.Author, "Account": account, "Draft": msgID == "",
		"Cover": template.URL(art.ThumbURL), "Content": template.HTML(art.Content), "SourceURL": art.ContentSourceURL,
	})
}

// flexID is an id that clients send as a JSON string ("100000001", as the
// documentation shows) or as a number (as SDKs typed int64 do).
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*f = ""
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*f = flexID(v)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexID(n.String())
	return nil
}

// flexFlag is a 0/1 flag that clients send as a number or as a JSON
// boolean (no_content).
type flexFlag int

func (f *flexFlag) UnmarshalJSON(b []byte) error {
	switch s := strings.TrimSpace(string(b)); s {
	case "true":
		*f = 1
	case "false", "null":
		*f = 0
	default:
		var n int
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexFlag(n)
	}
	return nil
}
