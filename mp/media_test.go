package mp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
)

func TestMediaUploadGet(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	media := env.c.Media()
	png := []byte("\x89PNG\r\n\x1a\n fake image")
	up, err := media.Upload(ctx, MediaTypeImage, "logo.png", bytes.NewReader(png))
	if err != nil {
		t.Fatalf("Media.Upload = %v", err)
	}
	if up.Type != MediaTypeImage || up.MediaID == "" || !up.CreatedAt.Equal(emuT0) {
		t.Errorf("Media.Upload = %+v, want an image created at %v", up, emuT0)
	}
	f, err := media.Get(ctx, up.MediaID)
	if err != nil {
		t.Fatalf("Media.Get = %v", err)
	}
	if !bytes.Equal(f.Content, png) || f.ContentType != "image/png" || !strings.HasSuffix(f.FileName, ".png") {
		t.Errorf("Media.Get = %q (%s, %q), want the uploaded PNG", f.Content, f.ContentType, f.FileName)
	}

	thumb, err := media.Upload(ctx, MediaTypeThumb, "t.jpg", bytes.NewReader([]byte("jpg")))
	if err != nil || thumb.ThumbMediaID == "" || thumb.MediaID != thumb.ThumbMediaID {
		t.Errorf("Media.Upload(thumb) = %+v, %v; want thumb_media_id copied into MediaID", thumb, err)
	}
	video, err := media.Upload(ctx, MediaTypeVideo, "v.mp4", bytes.NewReader([]byte("mp4")))
	if err != nil {
		t.Fatal(err)
	}
	if f, err := media.Get(ctx, video.MediaID); err != nil || f.VideoURL == "" || f.Content != nil {
		t.Errorf("Media.Get(video) = %+v, %v; want a video_url", f, err)
	}

	tests := []struct {
		name     string
		typ      MediaType
		filename string
		size     int
		code     int
	}{
		{"thumb 64 KB", MediaTypeThumb, "t.jpg", 64 << 10, 0},
		{"thumb 64 KB + 1", MediaTypeThumb, "t.jpg", 64<<10 + 1, 40012},
		{"voice 2 MB + 1", MediaTypeVoice, "v.mp3", 2<<20 + 1, 40010},
		{"image as voice file", MediaTypeVoice, "v.png", 10, 40005},
		{"empty file", MediaTypeImage, "e.png", 0, 44001},
		{"bad type", "file", "a.txt", 10, 40004},
	}
	for _, tc := range tests {
		_, err := media.Upload(ctx, tc.typ, tc.filename, bytes.NewReader(make([]byte, tc.size)))
		if tc.code == 0 {
			if err != nil {
				t.Errorf("Media.Upload(%s) = %v, want nil", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, &wxkit.APIError{ErrCode: tc.code}) {
			t.Errorf("Media.Upload(%s) = %v, want errcode %d", tc.name, err, tc.code)
		}
	}

	if _, err := media.Get(ctx, "missing"); !errors.Is(err, wxkit.ErrInvalidMediaID) {
		t.Errorf("Media.Get(unknown) = %v, want 40007", err)
	}
	// Temporary media live 3 days.
	if _, err := env.srv.Advance(3 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := media.Get(ctx, up.MediaID); !errors.Is(err, wxkit.ErrInvalidMediaID) {
		t.Errorf("Media.Get(after 3 days) = %v, want 40007", err)
	}
}

func TestMediaMaterial(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	media := env.c.Media()
	img := []byte("GIF89a fake")
	m, err := media.AddMaterial(ctx, MediaTypeImage, "cover.gif", bytes.NewReader(img), nil)
	if err != nil || m.MediaID == "" || m.URL == "" {
		t.Fatalf("Media.AddMaterial(image) = %+v, %v; want media_id and url", m, err)
	}
	v, err := media.AddMaterial(ctx, MediaTypeVideo, "intro.mp4", bytes.NewReader([]byte("mp4")),
		&VideoDescription{Title: "介绍", Introduction: "产品介绍视频"})
	if err != nil {
		t.Fatalf("Media.AddMaterial(video) = %v", err)
	}
	if _, err := media.AddMaterial(ctx, MediaTypeVideo, "x.mp4", bytes.NewReader([]byte("x")), nil); err == nil {
		t.Errorf("Media.AddMaterial(video without description) = nil, want an error")
	}

	f, err := media.GetMaterial(ctx, m.MediaID)
	if err != nil || !bytes.Equal(f.Content, img) {
		t.Errorf("Media.GetMaterial(image) = %+v, %v; want the bytes", f, err)
	}
	f, err = media.GetMaterial(ctx, v.MediaID)
	if err != nil || f.Title != "介绍" || f.Description != "产品介绍视频" || f.DownURL == "" {
		t.Errorf("Media.GetMaterial(video) = %+v, %v", f, err)
	}
	n, err := media.GetMaterialCount(ctx)
	if diff := cmp.Diff(&MaterialCount{ImageCount: 1, VideoCount: 1}, n); err != nil || diff != "" {
		t.Errorf("Media.GetMaterialCount = %v, mismatch (-want +got):\n%s", err, diff)
	}

	// A media_id menu button must name a permanent material.
	menu := &Menu{Buttons: []Button{{Type: ButtonTypeMediaID, Name: "图片", MediaID: m.MediaID}}}
	if err := env.c.Menu().Create(ctx, menu); err != nil {
		t.Errorf("Menu.Create(media_id of a material) = %v, want nil", err)
	}

	if err := media.DeleteMaterial(ctx, m.MediaID); err != nil {
		t.Fatalf("Media.DeleteMaterial = %v", err)
	}
	if err := media.DeleteMaterial(ctx, m.MediaID); !errors.Is(err, wxkit.ErrInvalidMediaID) {
		t.Errorf("Media.DeleteMaterial(again) = %v, want 40007", err)
	}
	if _, err := media.GetMaterial(ctx, m.MediaID); !errors.Is(err, wxkit.ErrInvalidMediaID) {
		t.Errorf("Media.GetMaterial(deleted) = %v, want 40007", err)
	}
	if err := env.c.Menu().Create(ctx, menu); !errors.Is(err, wxkit.ErrInvalidMediaID) {
		t.Errorf("Menu.Create(media_id of a deleted material) = %v, want 40007", err)
	}
}
