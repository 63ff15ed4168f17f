package mp

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxkit/wxkit/internal/wxhttp"
)

// TestDraftPublishReadsAreMarked: the reads of drafts, publishing and the
// material lists are retried on -1; adding, changing, deleting and
// publishing are not.
func TestDraftPublishReadsAreMarked(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	noBackoff(env.c)
	ctx := t.Context()
	c := env.c
	art := Article{Title: "t", Content: "c", ThumbMediaID: "m"}
	reads := map[string]func() error{
		"/cgi-bin/draft/get":                  func() error { _, err := c.Draft().Get(ctx, "m"); return err },
		"/cgi-bin/draft/count":                func() error { _, err := c.Draft().Count(ctx); return err },
		"/cgi-bin/draft/batchget":             func() error { _, err := c.Draft().List(ctx, &ListOptions{Count: 1}); return err },
		"/cgi-bin/freepublish/get":            func() error { _, err := c.FreePublish().Get(ctx, "1"); return err },
		"/cgi-bin/freepublish/getarticle":     func() error { _, err := c.FreePublish().GetArticle(ctx, "a"); return err },
		"/cgi-bin/freepublish/batchget":       func() error { _, err := c.FreePublish().List(ctx, &ListOptions{Count: 1}); return err },
		"/cgi-bin/material/batchget_material": func() error { _, err := c.Media().BatchGetMaterial(ctx, MaterialTypeImage, 0, 1); return err },
	}
	writes := map[string]func() error{
		"/cgi-bin/draft/add":          func() error { _, err := c.Draft().Add(ctx, []Article{art}); return err },
		"/cgi-bin/draft/update":       func() error { return c.Draft().Update(ctx, "m", 0, &art) },
		"/cgi-bin/draft/delete":       func() error { return c.Draft().Delete(ctx, "m") },
		"/cgi-bin/freepublish/submit": func() error { _, err := c.FreePublish().Submit(ctx, "m"); return err },
		"/cgi-bin/freepublish/delete": func() error { return c.FreePublish().Delete(ctx, "a", 0) },
		"/cgi-bin/media/uploadimg": func() error {
			_, err := c.Media().UploadImage(ctx, "a.jpg", strings.NewReader("\xff\xd8\xff"))
			return err
		},
	}
	got, want := map[string]int{}, map[string]int{}
	for attempts, calls := range map[int]map[string]func() error{wxhttp.DefaultMaxAttempts: reads, 1: writes} {
		for path, call := range calls {
			env.faults(t, path, -1, -1)
			_ = call()
			got[path], want[path] = env.calls(path), attempts
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls per path under -1 (-want +got):\n%s", diff)
	}
}
