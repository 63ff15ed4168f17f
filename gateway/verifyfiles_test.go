package gateway

import (
	"net/http"
	"testing"

	"github.com/wxkit/wxkit/emulator"
)

func TestVerifyFiles(t *testing.T) {
	t.Parallel()
	e := newWebEnv(t, func(cfg *Config, _ *emulator.Config) {
		cfg.VerifyFiles = map[string]string{"MP_verify_abc123.txt": "abc123", "MP_verify_Z9.txt": "Z9"}
	})
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/MP_verify_abc123.txt", 200, "abc123"},
		{"/MP_verify_Z9.txt", 200, "Z9"},
		{"/MP_verify_other.txt", 404, ""},
		{"/MP_verify_abc123.txt/", 404, ""},
		{"/mp_verify_abc123.txt", 404, ""},
	} {
		resp, body := get(t, http.DefaultClient, e.url+tc.path)
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s = %d, want %d", tc.path, resp.StatusCode, tc.status)
			continue
		}
		if tc.status == 200 {
			if body != tc.body || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Errorf("GET %s = %q (%s), want %q text/plain", tc.path, body, resp.Header.Get("Content-Type"), tc.body)
			}
		}
	}
}
