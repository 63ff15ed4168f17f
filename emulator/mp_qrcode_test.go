package emulator

import (
	"testing"
)

func TestQRCodeCreateRules(t *testing.T) {
	t.Parallel()
	e := newTest(t, nil)
	tok := fetchToken(t, e)
	tests := []struct {
		name, body string
		code       int
		expire     float64 // expected expire_seconds (0: absent)
	}{
		{"temporary default 60 s", `{"action_name":"QR_SCENE","action_info":{"scene":{"scene_id":1}}}`, 0, 60},
		{"temporary capped at 30 days", `{"expire_seconds":9999999,"action_name":"QR_STR_SCENE","action_info":{"scene":{"scene_str":"a"}}}`, 0, 2592000},
		{"temporary scene 0", `{"action_name":"QR_SCENE","action_info":{"scene":{"scene_id":0}}}`, 40097, 0},
		{"temporary scene beyond 32 bits", `{"action_name":"QR_SCENE","action_info":{"scene":{"scene_id":4294967296}}}`, 40097, 0},
		{"permanent 100000", `{"action_name":"QR_LIMIT_SCENE","action_info":{"scene":{"scene_id":100000}}}`, 0, 0},
		{"permanent 100001", `{"action_name":"QR_LIMIT_SCENE","action_info":{"scene":{"scene_id":100001}}}`, 40097, 0},
		{"scene_str 64 bytes", `{"action_name":"QR_LIMIT_STR_SCENE","action_info":{"scene":{"scene_str":"` + zhBytes(64) + `"}}}`, 0, 0},
		{"scene_str 65 bytes", `{"action_name":"QR_LIMIT_STR_SCENE","action_info":{"scene":{"scene_str":"` + zhBytes(65) + `"}}}`, 40097, 0},
		{"unknown action", `{"action_name":"QR_X","action_info":{"scene":{"scene_id":1}}}`, 40097, 0},
	}
	for _, tc := range tests {
		code, m := mpCallJSON(t, e, tok, "POST", "/cgi-bin/qrcode/create", tc.body)
		if code != tc.code {
			t.Errorf("%s: qrcode/create = %d (%v), want %d", tc.name, code, m["errmsg"], tc.code)
			continue
		}
		if code != 0 {
			continue
		}
		exp, _ := m["expire_seconds"].(float64)
		if exp != tc.expire || m["ticket"] == "" || m["url"] == "" {
			t.Errorf("%s: qrcode/create = %v, want expire_seconds %v", tc.name, m, tc.expire)
		}
	}
}
