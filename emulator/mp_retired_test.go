package emulator

import (
	"strings"
	"testing"
)

// TestRetiredShortURL: shorturl answers as the platform has since it was
// switched off, after the token checks.
func TestRetiredShortURL(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	body := `{"action":"long2short","long_url":"https://example.com/a/very/long/link"}`
	wantErr(t, "shorturl without a token", call(t, e, "POST", "/cgi-bin/shorturl", body), 41001)
	r := call(t, e, "POST", "/cgi-bin/shorturl?access_token="+fetchToken(t, e), body)
	wantErr(t, "shorturl", r, 45103)
	if r.Status != 200 || !strings.HasPrefix(r.ErrMsg, "This API has been unsupported rid: ") {
		t.Errorf("shorturl = %d %q, want 200 \"This API has been unsupported rid: ...\"", r.Status, r.ErrMsg)
	}
}
