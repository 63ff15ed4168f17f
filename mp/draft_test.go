package mp

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/emulator/emulatortest"
)

// cover adds a permanent image material for article covers.
func (env *emuEnv) cover(t *testing.T) *Material {
	t.Helper()
	m, err := env.c.Media().AddMaterial(t.Context(), MediaTypeImage, "cover.jpg", strings.NewReader("\xff\xd8 cover"), nil)
	if err != nil {
		t.Fatalf("Media.AddMaterial = %v", err)
	}
	return m
}

func TestDraftLifecycle(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	drafts := env.c.Draft()
	cover := env.cover(t)
	body, err := env.c.Media().UploadImage(ctx, "in.png", strings.NewReader("\x89PNG body"))
	if err != nil {
		t.Fatal(err)
	}
	art := Article{
		Title: "春季新品", Author: "店长", ThumbMediaID: cover.MediaID, ContentSourceURL: "https://example.com/spring",
		Content:         `<p>三款新品上市。</p><img src="` + body + `"><img src="https://elsewhere.example/x.png"><script>alert(1)</script>`,
		NeedOpenComment: 1, OnlyFansCanComment: 1,
	}
	id, err := drafts.Add(ctx, []Article{art})
	if err != nil || id == "" {
		t.Fatalf("Draft.Add = %q, %v", id, err)
	}
	got, err := drafts.Get(ctx, id)
	if err != nil || len(got) != 1 {
		t.Fatalf("Draft.Get = %+v, %v", got, err)
	}
	g := got[0]
	// Scripts and foreign images are removed; the single article's digest
	// is taken from its text.
	wantContent := `<p>三款新品上市。</p><img src="` + body + `">`
	if g.Content != wantContent || g.Digest != "三款新品上市。" || g.ArticleType != ArticleTypeNews ||
		g.NeedOpenComment != 1 || g.OnlyFansCanComment != 1 || g.ThumbURL != cover.URL || g.URL == "" {
		t.Errorf("Draft.Get = %+v, want content %q, the digest from the text, the cover URL and a preview url", g, wantContent)
	}
	if st, _, page := env.fetch(t, g.URL); st != 200 || !strings.Contains(string(page), "春季新品") || !strings.Contains(string(page), body) {
		t.Errorf("GET preview = %d %s, want the article", st, page)
	}

	upd := art
	upd.Title, upd.Digest = "春季新品（更新）", "摘要"
	if err := drafts.Update(ctx, id, 0, &upd); err != nil {
		t.Fatalf("Draft.Update = %v", err)
	}
	if got, err := drafts.Get(ctx, id); err != nil || got[0].Title != upd.Title || got[0].Digest != "摘要" {
		t.Errorf("Draft.Get after Update = %+v, %v", got, err)
	}
	wantCode(t, "Draft.Update(index 1 of 1)", drafts.Update(ctx, id, 1, &upd), 40035)
	wantCode(t, "Draft.Update(unknown)", drafts.Update(ctx, "nope", 0, &upd), 40007)

	two := art
	two.Title = "第二篇"
	id2, err := drafts.Add(ctx, []Article{art, two})
	if err != nil {
		t.Fatalf("Draft.Add(2 articles) = %v", err)
	}
	if got, _ := drafts.Get(ctx, id2); len(got) != 2 || got[0].Digest != "" {
		t.Errorf("Draft.Get(2 articles) = %+v, want 2 articles without a digest", got)
	}
	if n, err := drafts.Count(ctx); err != nil || n != 2 {
		t.Errorf("Draft.Count = %d, %v; want 2", n, err)
	}
	l, err := drafts.List(ctx, &ListOptions{Count: 1})
	if err != nil || l.TotalCount != 2 || l.ItemCount != 1 || l.Items[0].MediaID != id2 || len(l.Items[0].Content.NewsItem) != 2 {
		t.Errorf("Draft.List(count 1) = %+v, %v; want the newest draft %s", l, err, id2)
	}
	l, err = drafts.List(ctx, &ListOptions{Offset: 1, Count: 20, NoContent: true})
	if err != nil || l.ItemCount != 1 || l.Items[0].MediaID != id || l.Items[0].Content.NewsItem[0].Content != "" {
		t.Errorf("Draft.List(offset 1, no content) = %+v, %v; want %s without content", l, err, id)
	}
	var all []string
	for it, err := range drafts.All(ctx, true) {
		if err != nil {
			t.Fatalf("Draft.All = %v", err)
		}
		all = append(all, it.MediaID)
	}
	if diff := cmp.Diff([]string{id, id2}, all, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("Draft.All mismatch (-want +got):\n%s", diff)
	}
	for _, o := range []*ListOptions{nil, {Count: 0}, {Count: 21}} {
		_, err := drafts.List(ctx, o)
		wantCode(t, "Draft.List(bad count)", err, 40035)
	}

	if err := drafts.Delete(ctx, id); err != nil {
		t.Fatalf("Draft.Delete = %v", err)
	}
	wantCode(t, "Draft.Delete(again)", drafts.Delete(ctx, id), 40007)
	_, err = drafts.Get(ctx, id)
	wantCode(t, "Draft.Get(deleted)", err, 40007)
	if n, _ := drafts.Count(ctx); n != 1 {
		t.Errorf("Draft.Count after Delete = %d, want 1", n)
	}
}

func TestDraftAddErrors(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	cover := env.cover(t)
	voice, err := env.c.Media().AddMaterial(ctx, MediaTypeVoice, "v.mp3", strings.NewReader("mp3"), nil)
	if err != nil {
		t.Fatal(err)
	}
	temp, err := env.c.Media().Upload(ctx, MediaTypeImage, "t.png", strings.NewReader("png"))
	if err != nil {
		t.Fatal(err)
	}
	ok := Article{Title: "标题", Content: "<p>正文</p>", ThumbMediaID: cover.MediaID}
	with := func(f func(a *Article)) []Article { a := ok; f(&a); return []Article{a} }
	nine := make([]Article, 9)
	for i := range nine {
		nine[i] = ok
	}
	tests := []struct {
		name     string
		articles []Article
		code     int
	}{
		{"no articles", nil, 44003},
		{"9 articles", nine, 45008},
		{"no title", with(func(a *Article) { a.Title = "" }), 45003},
		{"title 33 characters", with(func(a *Article) { a.Title = strings.Repeat("标", 33) }), 45003},
		{"author 17 characters", with(func(a *Article) { a.Author = strings.Repeat("作", 17) }), 45110},
		{"digest 129 characters", with(func(a *Article) { a.Digest = strings.Repeat("摘", 129) }), 45004},
		{"content 20001 characters", with(func(a *Article) { a.Content = strings.Repeat("字", 20001) }), 45002},
		{"source url over 1 KB", with(func(a *Article) { a.ContentSourceURL = "https://e.example/" + strings.Repeat("a", 1024) }), 45005},
		{"no thumb", with(func(a *Article) { a.ThumbMediaID = "" }), 40007},
		{"unknown thumb", with(func(a *Article) { a.ThumbMediaID = "nope" }), 40007},
		{"thumb is a voice", with(func(a *Article) { a.ThumbMediaID = voice.MediaID }), 40007},
		{"thumb is temporary", with(func(a *Article) { a.ThumbMediaID = temp.MediaID }), 40007},
		{"comment flag 2", with(func(a *Article) { a.NeedOpenComment = 2 }), 40035},
		{"unknown article_type", with(func(a *Article) { a.ArticleType = "video" }), 40035},
		{"newspic without images", with(func(a *Article) { a.ArticleType = ArticleTypeNewsPic }), 40035},
		{"newspic unknown image", with(func(a *Article) {
			a.ArticleType, a.ImageInfo = ArticleTypeNewsPic, &ImageInfo{ImageList: []ImageItem{{ImageMediaID: "nope"}}}
		}), 40007},
	}
	for _, tc := range tests {
		_, err := env.c.Draft().Add(ctx, tc.articles)
		wantCode(t, "Draft.Add("+tc.name+")", err, tc.code)
	}
	if n, err := env.c.Draft().Count(ctx); err != nil || n != 0 {
		t.Errorf("Draft.Count after refused adds = %d, %v; want 0", n, err)
	}
	// Limits are in characters: 32 Chinese characters fit.
	pic := with(func(a *Article) {
		a.Title, a.ArticleType, a.ThumbMediaID = strings.Repeat("标", 32), ArticleTypeNewsPic, ""
		a.ImageInfo = &ImageInfo{ImageList: []ImageItem{{ImageMediaID: cover.MediaID}}}
	})
	if _, err := env.c.Draft().Add(ctx, pic); err != nil {
		t.Errorf("Draft.Add(newspic, 32-character title) = %v, want nil", err)
	}
}

// TestDraftMiniProgram: drafts and publishing are Official Account APIs.
func TestDraftMiniProgram(t *testing.T) {
	t.Parallel()
	srv := emulatortest.New(t, emulator.Config{Apps: []emulator.AppConfig{
		{AppID: emuAppID, Secret: emuSecret, Token: emuToken, Type: emulator.AppTypeMiniProgram},
	}})
	env, err := NewClient(emuAppID, emuSecret, WithBaseURL(srv.URL+"/"), WithHTTPClient(srv.HTTP.Client()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	_, err = env.Draft().Count(ctx)
	wantCode(t, "Draft.Count(Mini Program)", err, 48001)
	_, err = env.FreePublish().Submit(ctx, "x")
	wantCode(t, "FreePublish.Submit(Mini Program)", err, 48001)
}

// TestDraftContentScripts: scripts, event handlers and javascript: links
// are removed from an article's content ("此处会去除JS").
func TestDraftContentScripts(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	cover := env.cover(t)
	in := `<p onclick="steal()">a</p><SCRIPT type="text/javascript">x()</SCRIPT><a href="javascript:alert(1)">b</a><p onmouseover=go()>c</p>`
	id, err := env.c.Draft().Add(ctx, []Article{{Title: "t", Content: in, ThumbMediaID: cover.MediaID}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := env.c.Draft().Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := `<p>a</p><a href="alert(1)">b</a><p>c</p>`; got[0].Content != want {
		t.Errorf("Draft.Get content = %q, want %q", got[0].Content, want)
	}
}
