package miniprogram

import (
	"testing"
	"time"
)

// BenchmarkDecryptUserInfo measures the profile step of a Mini Program login:
// the corpus's official encryptedData sample opened with its session_key,
// the watermark checked and the JSON decoded into UserInfo.
func BenchmarkDecryptUserInfo(b *testing.B) {
	v := decryptVectors(b)[0]
	wm, ok := v.ExpectedJSON["watermark"].(map[string]any)
	if !ok {
		b.Fatalf("vector %s has no watermark", v.ID)
	}
	now := time.Unix(int64(wm["timestamp"].(float64)), 0).Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		u, err := DecryptUserInfo(v.AppID, v.SessionKey, v.EncryptedData, v.IV, now, 5*time.Minute)
		if err != nil || u.OpenID == "" {
			b.Fatalf("DecryptUserInfo = %+v, %v", u, err)
		}
	}
}
