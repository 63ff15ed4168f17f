package mp

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wxkit/wxkit/message"
)

// TestFreePublish: a published draft leaves the drafts box, its job is
// reported by PUBLISHJOBFINISH (parsed with package message) and Get, its
// articles are served at their addresses, and reads of them reach the
// article statistics.
func TestFreePublish(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	rec := env.recordPushes(t)
	ctx := t.Context()
	cover := env.cover(t)
	arts := []Article{
		{Title: "发布测试", Author: "编辑部", Content: "<p>第一篇正文</p>", ThumbMediaID: cover.MediaID},
		{Title: "第二篇", Content: "<p>第二篇正文</p>", ThumbMediaID: cover.MediaID},
	}
	id, err := env.c.Draft().Add(ctx, arts)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := env.c.FreePublish().Submit(ctx, id)
	if err != nil || sub.PublishID == "" || sub.MsgDataID == 0 {
		t.Fatalf("FreePublish.Submit = %+v, %v", sub, err)
	}
	if n, _ := env.c.Draft().Count(ctx); n != 0 {
		t.Errorf("Draft.Count after Submit = %d, want 0 (a published draft leaves the box)", n)
	}
	_, err = env.c.FreePublish().Submit(ctx, id)
	wantCode(t, "FreePublish.Submit(published draft)", err, 40007)

	evs := rec.events(t, env, message.EventTypePublishJobFinish)
	if len(evs) != 1 || evs[0].PublishEventInfo == nil {
		t.Fatalf("PUBLISHJOBFINISH pushes = %+v, want 1", evs)
	}
	info := evs[0].PublishEventInfo
	// The push is in the conversation log the browser page shows.
	log, err := env.srv.Conversation(emuAppID, "")
	if err != nil {
		t.Fatal(err)
	}
	logged := false
	for _, en := range log {
		logged = logged || en.Event == "PUBLISHJOBFINISH" && strings.Contains(en.XML, "<publish_id>"+string(sub.PublishID)+"</publish_id>")
	}
	if !logged {
		t.Errorf("conversation log = %+v, want the PUBLISHJOBFINISH push", log)
	}
	job, err := env.c.FreePublish().Get(ctx, sub.PublishID)
	if err != nil {
		t.Fatalf("FreePublish.Get = %v", err)
	}
	if info.PublishID != string(sub.PublishID) || info.PublishStatus != 0 || info.ArticleID == "" || info.ArticleID != job.ArticleID ||
		info.ArticleDetail == nil || info.ArticleDetail.Count != 2 || len(info.ArticleDetail.Items) != 2 {
		t.Fatalf("PublishEventInfo = %+v, want status 0 with the job's article_id and 2 articles", info)
	}
	if job.PublishStatus != PublishStatusSuccess || job.ArticleDetail.Count != 2 || len(job.FailIdx) != 0 {
		t.Errorf("FreePublish.Get = %+v, want success with 2 articles", job)
	}
	for i, it := range info.ArticleDetail.Items {
		if it.Idx != i+1 || it.ArticleURL != job.ArticleDetail.Items[i].ArticleURL || !strings.HasPrefix(it.ArticleURL, env.srv.URL+"/s?") {
			t.Errorf("article_detail item %d = %+v, want idx %d and the emulator's address of Get (%+v)", i, it, i+1, job.ArticleDetail.Items[i])
		}
	}

	// The articles are served; reads count in the article statistics.
	u := info.ArticleDetail.Items[0].ArticleURL
	for _, reader := range env.users[:3] {
		if st, _, page := env.fetch(t, u+"&openid="+reader); st != 200 || !strings.Contains(string(page), "第一篇正文") {
			t.Fatalf("GET %s = %d %s, want the article", u, st, page)
		}
	}
	// The statistics of a day are ready the next day.
	if _, err := env.srv.Advance(24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	sum, err := env.c.DataCube().ArticleSummary(ctx, emuT0, emuT0)
	if err != nil {
		t.Fatalf("DataCube.ArticleSummary = %v", err)
	}
	msgID := fmt.Sprintf("%d_1", sub.MsgDataID)
	found := false
	for _, s := range sum {
		if s.MsgID == msgID {
			found = true
			if s.Title != "发布测试" || s.IntPageReadUser != 3 || s.IntPageReadCount != 3 {
				t.Errorf("DataCube.ArticleSummary[%s] = %+v, want 3 reads by 3 users of 发布测试", msgID, s)
			}
		}
	}
	if !found {
		t.Errorf("DataCube.ArticleSummary = %+v, want the published article %s", sum, msgID)
	}

	got, err := env.c.FreePublish().GetArticle(ctx, job.ArticleID)
	if err != nil || len(got) != 2 || got[0].Title != "发布测试" || got[0].URL != u || got[0].IsDeleted {
		t.Errorf("FreePublish.GetArticle = %+v, %v", got, err)
	}
	l, err := env.c.FreePublish().List(ctx, &ListOptions{Count: 20})
	if err != nil || l.TotalCount != 1 || l.Items[0].ArticleID != job.ArticleID || len(l.Items[0].Content.NewsItem) != 2 ||
		!l.Items[0].Content.CreateTime.Equal(emuT0) {
		t.Errorf("FreePublish.List = %+v, %v", l, err)
	}

	// Deleting article 2, then all.
	if err := env.c.FreePublish().Delete(ctx, job.ArticleID, 2); err != nil {
		t.Fatalf("FreePublish.Delete(2) = %v", err)
	}
	if got, _ := env.c.FreePublish().GetArticle(ctx, job.ArticleID); len(got) != 2 || got[0].IsDeleted || !got[1].IsDeleted {
		t.Errorf("FreePublish.GetArticle after Delete(2) = %+v, want article 2 deleted", got)
	}
	if st, _, _ := env.fetch(t, info.ArticleDetail.Items[1].ArticleURL); st != 404 {
		t.Errorf("GET a deleted article = %d, want 404", st)
	}
	wantCode(t, "FreePublish.Delete(index 3 of 2)", env.c.FreePublish().Delete(ctx, job.ArticleID, 3), 40035)
	if err := env.c.FreePublish().Delete(ctx, job.ArticleID, 0); err != nil {
		t.Fatalf("FreePublish.Delete(all) = %v", err)
	}
	if job, err := env.c.FreePublish().Get(ctx, sub.PublishID); err != nil || job.PublishStatus != PublishStatusUserDeleted {
		t.Errorf("FreePublish.Get after deleting all = %+v, %v; want status 5", job, err)
	}
	if l, err := env.c.FreePublish().List(ctx, &ListOptions{Count: 20}); err != nil || l.TotalCount != 0 {
		t.Errorf("FreePublish.List after deleting all = %+v, %v; want none", l, err)
	}

	_, err = env.c.FreePublish().GetArticle(ctx, "nope")
	wantCode(t, "FreePublish.GetArticle(unknown)", err, 53600)
	wantCode(t, "FreePublish.Delete(unknown)", env.c.FreePublish().Delete(ctx, "nope", 0), 53600)
	_, err = env.c.FreePublish().Get(ctx, "1")
	wantCode(t, "FreePublish.Get(unknown)", err, 40035)
	_, err = env.c.FreePublish().List(ctx, &ListOptions{Count: 21})
	wantCode(t, "FreePublish.List(count 21)", err, 40035)
}

// TestFreePublishRejected: an article that fails the emulator's review
// (违规 in its text) ends the job with status 4 and fail_idx, in the event
// and in Get; an article with neither text nor image fails with status 3.
func TestFreePublishRejected(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	rec := env.recordPushes(t)
	ctx := t.Context()
	cover := env.cover(t)
	submit := func(arts ...Article) string {
		t.Helper()
		id, err := env.c.Draft().Add(ctx, arts)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := env.c.FreePublish().Submit(ctx, id)
		if err != nil {
			t.Fatalf("FreePublish.Submit = %v", err)
		}
		return string(sub.PublishID)
	}
	okArt := Article{Title: "正常", Content: "<p>正文</p>", ThumbMediaID: cover.MediaID}
	bad := Article{Title: "标题", Content: "<p>含违规内容</p>", ThumbMediaID: cover.MediaID}
	empty := Article{Title: "空文章", Content: "<p> </p>", ThumbMediaID: cover.MediaID}
	rejected := submit(okArt, bad)
	failed := submit(empty)

	evs := rec.events(t, env, message.EventTypePublishJobFinish)
	if len(evs) != 2 {
		t.Fatalf("PUBLISHJOBFINISH pushes = %d, want 2", len(evs))
	}
	want := map[string]struct {
		status int
		fail   []int
	}{rejected: {4, []int{2}}, failed: {3, []int{1}}}
	for _, ev := range evs {
		info := ev.PublishEventInfo
		w, ok := want[info.PublishID]
		if !ok || info.PublishStatus != w.status || fmt.Sprint(info.FailIdx) != fmt.Sprint(w.fail) || info.ArticleID != "" {
			t.Errorf("PublishEventInfo = %+v, want status %d fail_idx %v and no article", info, w.status, w.fail)
		}
		job, err := env.c.FreePublish().Get(ctx, PublishID(info.PublishID))
		if err != nil || int(job.PublishStatus) != w.status || fmt.Sprint(job.FailIdx) != fmt.Sprint(w.fail) || job.ArticleID != "" {
			t.Errorf("FreePublish.Get(%s) = %+v, %v; want status %d fail_idx %v", info.PublishID, job, err, w.status, w.fail)
		}
	}
	if l, err := env.c.FreePublish().List(ctx, &ListOptions{Count: 20}); err != nil || l.TotalCount != 0 {
		t.Errorf("FreePublish.List = %+v, %v; want no publication", l, err)
	}
}

// TestPublishIDDecode: publish_id decodes from the documented JSON string
// and from the number SDKs expect.
func TestPublishIDDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{`{"publish_id":"100000001"}`, "100000001"},
		{`{"publish_id":2247483896}`, "2247483896"},
		{`{"publish_id":null}`, ""},
	} {
		var s PublishSubmission
		if err := json.Unmarshal([]byte(tc.in), &s); err != nil || string(s.PublishID) != tc.want {
			t.Errorf("Unmarshal(%s) = %q, %v; want %q", tc.in, s.PublishID, err, tc.want)
		}
	}
	var s PublishSubmission
	if err := json.Unmarshal([]byte(`{"publish_id":true}`), &s); err == nil {
		t.Errorf("Unmarshal(publish_id true) = nil, want an error")
	}
}
