package mp

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
)

// testImage encodes a small square in the format enc writes.
func testImage(t *testing.T, enc func(io.Writer, image.Image) error) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{R: 0x07, G: 0xC1, B: 0x60, A: 0xFF})
	}
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fetchImage GETs url from the emulator and returns the status, the
// content type and the body.
func fetchImage(t *testing.T, env *emuEnv, url string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := env.srv.HTTP.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s = %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// headImageURL returns kf_headimgurl of account from getkflist.
func headImageURL(t *testing.T, env *emuEnv, account string) string {
	t.Helper()
	list, err := env.c.CustomerService().ListAccounts(t.Context())
	if err != nil {
		t.Fatalf("CustomerService.ListAccounts = %v", err)
	}
	for _, k := range list {
		if k.Account == account {
			return k.HeadImgURL
		}
	}
	t.Fatalf("ListAccounts has no %s: %+v", account, list)
	return ""
}

func TestKfUploadHeadImage(t *testing.T) {
	t.Parallel()
	env, _ := newMassEmu(t, nil)
	ctx := t.Context()
	cs := env.c.CustomerService()
	if err := cs.AddAccount(ctx, "kf1@gh_test", "小美"); err != nil {
		t.Fatal(err)
	}
	if u := headImageURL(t, env, "kf1@gh_test"); strings.HasPrefix(u, env.srv.URL) {
		t.Errorf("kf_headimgurl before any upload = %q, want the platform's default", u)
	}

	jpg := testImage(t, func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, nil) })
	if err := cs.UploadHeadImage(ctx, "kf1@gh_test", "head.jpg", bytes.NewReader(jpg)); err != nil {
		t.Fatalf("CustomerService.UploadHeadImage(jpg) = %v", err)
	}
	first := headImageURL(t, env, "kf1@gh_test")
	if !strings.HasPrefix(first, env.srv.URL+"/mmbiz/") {
		t.Fatalf("kf_headimgurl = %q, want an address under %s/mmbiz/", first, env.srv.URL)
	}
	if status, ct, body := fetchImage(t, env, first); status != 200 || ct != "image/jpeg" || !bytes.Equal(body, jpg) {
		t.Errorf("GET kf_headimgurl = %d %q (%d bytes), want 200 image/jpeg with the uploaded %d bytes", status, ct, len(body), len(jpg))
	}

	// A PNG replaces it; the old address stops serving.
	pngData := testImage(t, png.Encode)
	if err := cs.UploadHeadImage(ctx, "kf1@gh_test", "head.png", bytes.NewReader(pngData)); err != nil {
		t.Fatalf("CustomerService.UploadHeadImage(png) = %v", err)
	}
	second := headImageURL(t, env, "kf1@gh_test")
	if second == first {
		t.Errorf("kf_headimgurl unchanged after a new image: %q", second)
	}
	if status, ct, body := fetchImage(t, env, second); status != 200 || ct != "image/png" || !bytes.Equal(body, pngData) {
		t.Errorf("GET new kf_headimgurl = %d %q (%d bytes), want 200 image/png with the uploaded %d bytes", status, ct, len(body), len(pngData))
	}
	if status, _, _ := fetchImage(t, env, first); status != http.StatusNotFound {
		t.Errorf("GET replaced kf_headimgurl = %d, want 404", status)
	}

	// Just over the documented 5 MB, with a JPEG header.
	big := append(bytes.Clone(jpg[:3]), make([]byte, 5<<20-2)...)
	tests := []struct {
		name    string
		account string
		file    string
		data    []byte
		code    int
	}{
		{"unknown account", "kf9@gh_test", "head.jpg", jpg, 65401},
		{"not an image", "kf1@gh_test", "head.jpg", []byte("this is not an image"), 40005},
		{"gif", "kf1@gh_test", "head.gif", []byte("GIF89a\x01\x00\x01\x00"), 40005},
		{"empty file", "kf1@gh_test", "head.jpg", nil, 44001},
		{"over 5 MB", "kf1@gh_test", "head.jpg", big, 40009},
	}
	for _, tc := range tests {
		err := cs.UploadHeadImage(ctx, tc.account, tc.file, bytes.NewReader(tc.data))
		wantCode(t, "UploadHeadImage("+tc.name+")", err, tc.code)
	}
	if got := headImageURL(t, env, "kf1@gh_test"); got != second {
		t.Errorf("kf_headimgurl after refused uploads = %q, want %q", got, second)
	}

	// Deleting the account takes its image down.
	if err := cs.DeleteAccount(ctx, "kf1@gh_test"); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := fetchImage(t, env, second); status != http.StatusNotFound {
		t.Errorf("GET kf_headimgurl of a deleted account = %d, want 404", status)
	}
}
