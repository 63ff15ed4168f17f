package emulator

import (
	"bytes"
	"image/png"
	"net/http"
	"strings"
	"testing"
)

// TestAvatar: sns/userinfo gives a user without a configured headimgurl
// the emulator's drawn avatar, on the emulator's origin and in the
// platform's path shape; it is a PNG of the asked size, the same for the
// same openid and another for another user; a configured headimgurl is
// kept; unknown users and sizes are 404.
func TestAvatar(t *testing.T) {
	t.Parallel()
	e := newOAuthTest(t)
	u1, u2 := oauthUsers[0], oauthUsers[1] // u1 has a headimgurl, u2 none

	info := func(openID string) string {
		t.Helper()
		g := grant(t, e, openID, "snsapi_userinfo")
		r := snsCall(t, e, "/sns/userinfo?access_token="+g.AccessToken+"&openid="+openID)
		if r.ErrCode != 0 {
			t.Fatalf("sns/userinfo(%s) = %+v", openID, r)
		}
		return r.HeadImgURL
	}
	if got := info(u1.OpenID); got != u1.HeadImgURL {
		t.Errorf("configured headimgurl answered as %q, want %q", got, u1.HeadImgURL)
	}
	got := info(u2.OpenID)
	// httptest requests come from example.com.
	if want := "http://example.com/mmopen/vi_32/" + u2.OpenID + "/132"; got != want {
		t.Fatalf("headimgurl of a user without one = %q, want %q", got, want)
	}

	fetch := func(path string) *http.Response {
		t.Helper()
		w := oauthDo(t, e, http.MethodGet, path, nil)
		return w.Result()
	}
	decode := func(path string, side int) []byte {
		t.Helper()
		resp := fetch(path)
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("GET %s = %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		img, err := png.Decode(bytes.NewReader(body.Bytes()))
		if err != nil {
			t.Fatalf("GET %s: not a PNG: %v", path, err)
		}
		if b := img.Bounds(); b.Dx() != side || b.Dy() != side {
			t.Errorf("GET %s: %v, want %d×%d", path, b, side, side)
		}
		// A silhouette on a background: the corner and the centre of the
		// head differ.
		if img.At(0, 0) == img.At(side/2, side*2/5) {
			t.Errorf("GET %s: one colour, want a silhouette", path)
		}
		return body.Bytes()
	}
	path := strings.TrimPrefix(got, "http://example.com")
	a := decode(path, 132)
	if b := decode(path, 132); !bytes.Equal(a, b) {
		t.Error("the same avatar drawn twice differs")
	}
	decode(avatarPrefix+u2.OpenID+"/0", 640)
	decode(avatarPrefix+u2.OpenID+"/46", 46)
	if c := decode(avatarPrefix+u1.OpenID+"/132", 132); bytes.Equal(a, c) {
		t.Error("two users have the same avatar")
	}

	for _, p := range []string{avatarPrefix + "oNobody/132", avatarPrefix + u2.OpenID + "/100", avatarPrefix + u2.OpenID, avatarPrefix} {
		if resp := fetch(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
}
