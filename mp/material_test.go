package mp

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wxkit/wxkit"
)

// fetch GETs u (an address the emulator handed out) and returns the
// status, Content-Type and body.
func (env *emuEnv) fetch(t *testing.T, u string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := env.srv.HTTP.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s = %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func TestMaterialBatchGet(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	media := env.c.Media()
	var ids []string
	for _, name := range []string{"a.png", "b.jpg", "c.gif"} {
		m, err := media.AddMaterial(ctx, MediaTypeImage, name, strings.NewReader("img "+name), nil)
		if err != nil {
			t.Fatalf("Media.AddMaterial(%s) = %v", name, err)
		}
		ids = append(ids, m.MediaID)
	}
	if _, err := media.AddMaterial(ctx, MediaTypeVoice, "v.mp3", strings.NewReader("mp3"), nil); err != nil {
		t.Fatal(err)
	}
	l, err := media.BatchGetMaterial(ctx, MaterialTypeImage, 0, 2)
	if err != nil {
		t.Fatalf("Media.BatchGetMaterial = %v", err)
	}
	if l.TotalCount != 3 || l.ItemCount != 2 || len(l.Items) != 2 || l.Items[0].MediaID != ids[2] || l.Items[1].MediaID != ids[1] {
		t.Errorf("Media.BatchGetMaterial(image, 0, 2) = %+v, want the newest 2 of 3 (%s, %s)", l, ids[2], ids[1])
	}
	if it := l.Items[0]; it.Name != "c.gif" || it.URL == "" || !it.UpdateTime.Equal(emuT0) {
		t.Errorf("Media.BatchGetMaterial item = %+v, want name, url and update_time", it)
	}
	l, err = media.BatchGetMaterial(ctx, MaterialTypeImage, 2, 20)
	if err != nil || l.ItemCount != 1 || l.Items[0].MediaID != ids[0] {
		t.Errorf("Media.BatchGetMaterial(image, 2, 20) = %+v, %v; want the oldest", l, err)
	}
	l, err = media.BatchGetMaterial(ctx, MaterialTypeVoice, 0, 20)
	if err != nil || l.TotalCount != 1 || l.Items[0].URL != "" {
		t.Errorf("Media.BatchGetMaterial(voice) = %+v, %v; want 1 without url", l, err)
	}
	if l, err := media.BatchGetMaterial(ctx, MaterialTypeNews, 0, 20); err != nil || l.TotalCount != 0 || l.Items == nil {
		t.Errorf("Media.BatchGetMaterial(news) = %+v, %v; want an empty list", l, err)
	}
	for _, tc := range []struct {
		name          string
		typ           MaterialType
		offset, count int
		code          int
	}{
		{"count 0", MaterialTypeImage, 0, 0, 40035},
		{"count 21", MaterialTypeImage, 0, 21, 40035},
		{"negative offset", MaterialTypeImage, -1, 5, 40035},
		{"thumb", "thumb", 0, 5, 40004},
		{"unknown type", "file", 0, 5, 40004},
	} {
		_, err := media.BatchGetMaterial(ctx, tc.typ, tc.offset, tc.count)
		wantCode(t, "Media.BatchGetMaterial("+tc.name+")", err, tc.code)
	}

	// The url of an image material serves the image.
	img, err := media.AddMaterial(ctx, MediaTypeImage, "cover.png", bytes.NewReader([]byte("\x89PNG cover")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, ct, b := env.fetch(t, img.URL); st != 200 || ct != "image/png" || string(b) != "\x89PNG cover" {
		t.Errorf("GET %s = %d %s %q, want the image", img.URL, st, ct, b)
	}
	if err := media.DeleteMaterial(ctx, img.MediaID); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := env.fetch(t, img.URL); st != 404 {
		t.Errorf("GET url of a deleted material = %d, want 404", st)
	}

	// A video keeps its description; its down_url serves it.
	v, err := media.AddMaterial(ctx, MediaTypeVideo, "intro.mp4", strings.NewReader("mp4 bytes"),
		&VideoDescription{Title: "介绍", Introduction: "产品介绍"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := media.GetMaterial(ctx, v.MediaID)
	if err != nil || f.Title != "介绍" || f.Description != "产品介绍" {
		t.Fatalf("Media.GetMaterial(video) = %+v, %v", f, err)
	}
	if st, ct, b := env.fetch(t, f.DownURL); st != 200 || ct != "video/mp4" || string(b) != "mp4 bytes" {
		t.Errorf("GET down_url = %d %s %q, want the video", st, ct, b)
	}
	if l, err := media.BatchGetMaterial(ctx, MaterialTypeVideo, 0, 20); err != nil || l.TotalCount != 1 || l.Items[0].Name != "intro.mp4" {
		t.Errorf("Media.BatchGetMaterial(video) = %+v, %v", l, err)
	}
}

func TestMediaUploadImage(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	media := env.c.Media()
	jpg := []byte("\xff\xd8\xff fake jpeg")
	u, err := media.UploadImage(ctx, "body.jpg", bytes.NewReader(jpg))
	if err != nil {
		t.Fatalf("Media.UploadImage = %v", err)
	}
	if !strings.HasPrefix(u, env.srv.URL+"/mmbiz_jpg/") {
		t.Errorf("Media.UploadImage = %q, want an address under %s/mmbiz_jpg/", u, env.srv.URL)
	}
	if st, ct, b := env.fetch(t, u); st != 200 || ct != "image/jpeg" || !bytes.Equal(b, jpg) {
		t.Errorf("GET %s = %d %s %q, want the image", u, st, ct, b)
	}
	// An article image is not a material.
	if n, err := media.GetMaterialCount(ctx); err != nil || n.ImageCount != 0 {
		t.Errorf("Media.GetMaterialCount = %+v, %v; want no images", n, err)
	}
	for _, tc := range []struct {
		name, file string
		size       int
		code       int
	}{
		{"1 MB", "a.png", 1 << 20, 0},
		{"1 MB + 1", "a.png", 1<<20 + 1, 40009},
		{"gif", "a.gif", 10, 40005},
		{"empty", "a.jpg", 0, 44001},
	} {
		_, err := media.UploadImage(ctx, tc.file, bytes.NewReader(make([]byte, tc.size)))
		if tc.code == 0 {
			if err != nil {
				t.Errorf("Media.UploadImage(%s) = %v, want nil", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, &wxkit.APIError{ErrCode: tc.code}) {
			t.Errorf("Media.UploadImage(%s) = %v, want errcode %d", tc.name, err, tc.code)
		}
	}
	if st, _, _ := env.fetch(t, env.srv.URL+"/mmbiz_jpg/unknown/0"); st != 404 {
		t.Errorf("GET an unknown image = %d, want 404", st)
	}
}
