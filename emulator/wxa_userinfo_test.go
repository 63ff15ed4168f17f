package emulator

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/internal/corpus"
)

// decryptWXAData undoes Mini Program encryptedData with crypto/aes, as a
// developer's server does: AES-128-CBC, key and iv base64, PKCS#7.
func decryptWXAData(sessionKey, iv, data string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil || len(key) != 16 {
		return nil, errors.New("bad key")
	}
	ivb, err := base64.StdEncoding.DecodeString(iv)
	if err != nil || len(ivb) != 16 {
		return nil, errors.New("bad iv")
	}
	ct, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(ct) == 0 || len(ct)%16 != 0 {
		return nil, errors.New("bad ciphertext")
	}
	blk, _ := aes.NewCipher(key)
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(blk, ivb).CryptBlocks(pt, ct)
	n := int(pt[len(pt)-1])
	if n < 1 || n > 16 || !bytes.Equal(pt[len(pt)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, errors.New("bad padding")
	}
	return pt[:len(pt)-n], nil
}

func TestWXGetUserInfo(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	user := mpUser(t, e, mpAppID, 0)
	key := login(t, e, mpAppID, mpSecret, user)
	advance(t, e, 42*time.Second) // the watermark carries the emulator's time
	var got WXGetUserInfoResult
	if st := serveJSON(t, e, "POST", "/_emulator/apps/"+mpAppID+"/wx.getUserInfo", `{"openid":"`+user+`"}`, &got); st != 200 {
		t.Fatalf("wx.getUserInfo: %d", st)
	}
	wantInfo := WXUserInfo{NickName: "小明", Gender: 1, Language: "zh_CN", City: "Shenzhen", Province: "Guangdong",
		Country: "China", AvatarURL: "http://example.com/a.png"}
	if diff := cmp.Diff(wantInfo, got.UserInfo); diff != "" {
		t.Errorf("userInfo (-want +got):\n%s", diff)
	}
	var raw WXUserInfo
	if err := json.Unmarshal([]byte(got.RawData), &raw); err != nil || raw != wantInfo {
		t.Errorf("rawData %q does not hold userInfo (%v)", got.RawData, err)
	}
	sum := sha1.Sum([]byte(got.RawData + key))
	if want := hex.EncodeToString(sum[:]); got.Signature != want {
		t.Errorf("signature = %s, want sha1(rawData + session_key) = %s", got.Signature, want)
	}
	plain, err := decryptWXAData(key, got.IV, got.EncryptedData)
	if err != nil {
		t.Fatalf("decrypt encryptedData with the session_key from code2session: %v", err)
	}
	var data struct {
		OpenID    string `json:"openId"`
		NickName  string `json:"nickName"`
		Gender    int    `json:"gender"`
		City      string `json:"city"`
		UnionID   string `json:"unionId"`
		Watermark struct {
			AppID     string `json:"appid"`
			Timestamp int64  `json:"timestamp"`
		} `json:"watermark"`
	}
	if err := json.Unmarshal(plain, &data); err != nil {
		t.Fatalf("encryptedData plaintext is not JSON: %q", plain)
	}
	if data.OpenID != user || data.NickName != "小明" || data.Gender != 1 || data.City != "Shenzhen" || data.UnionID != mpUnionID {
		t.Errorf("encrypted profile = %+v", data)
	}
	if data.Watermark.AppID != mpAppID || data.Watermark.Timestamp != t0.Unix()+42 {
		t.Errorf("watermark = %+v, want appid %s timestamp %d", data.Watermark, mpAppID, t0.Unix()+42)
	}

	// After another wx.login the data is encrypted with the new key: the
	// old one no longer decrypts it.
	newKey := login(t, e, mpAppID, mpSecret, user)
	again, err := e.WXGetUserInfo(mpAppID, user)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := decryptWXAData(newKey, again.IV, again.EncryptedData); err != nil || !json.Valid(p) {
		t.Errorf("decrypt with the new session_key: %v", err)
	}
	if p, err := decryptWXAData(key, again.IV, again.EncryptedData); err == nil && json.Valid(p) && bytes.Contains(p, []byte(user)) {
		t.Errorf("the replaced session_key still decrypts the data")
	}
}

func TestWXGetUserInfoErrors(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	tests := []struct {
		name, app, user string
		want            error
		status          int
	}{
		{"not logged in", mpAppID, mpUser(t, e, mpAppID, 1), ErrNoSession, 409},
		{"official account", testAppID, "", ErrNotMiniProgram, 409},
		{"unknown user", mpAppID, "oNobody", ErrUnknownUser, 404},
		{"unknown app", "wxnope", "", ErrUnknownApp, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.WXGetUserInfo(tt.app, tt.user); !errors.Is(err, tt.want) {
				t.Errorf("WXGetUserInfo = %v, want %v", err, tt.want)
			}
			st, _ := serveRaw(t, e, "POST", "/_emulator/apps/"+tt.app+"/wx.getUserInfo", `{"openid":"`+tt.user+`"}`)
			if st != tt.status {
				t.Errorf("control status = %d, want %d", st, tt.status)
			}
		})
	}
}

// TestWXADataCorpus checks the Mini Program crypto of the emulator against
// the corpus: re-encrypting the official sample's plaintext gives its
// encryptedData, and rawData signatures match (or, for negative vectors,
// do not).
func TestWXADataCorpus(t *testing.T) {
	t.Parallel()
	var dec struct {
		Vectors []struct {
			ID            string `json:"id"`
			AppID         string `json:"appid"`
			SessionKey    string `json:"session_key"`
			IV            string `json:"iv"`
			EncryptedData string `json:"encrypted_data"`
			Plaintext     string `json:"plaintext"`
		} `json:"vectors"`
	}
	corpus.DecodeJSON(t, &dec, "crypto", "wxa_decrypt.json")
	if len(dec.Vectors) == 0 {
		t.Fatal("no vectors in crypto/wxa_decrypt.json")
	}
	for _, v := range dec.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			iv, _ := base64.StdEncoding.DecodeString(v.IV)
			got, err := encryptMiniProgramData(v.SessionKey, iv, []byte(v.Plaintext))
			if err != nil || got != v.EncryptedData {
				t.Errorf("encryptMiniProgramData = %q, %v; want the corpus encrypted_data", got, err)
			}
			if p, err := decryptWXAData(v.SessionKey, v.IV, v.EncryptedData); err != nil || string(p) != v.Plaintext {
				t.Errorf("the test's own decryption disagrees with the corpus: %v", err)
			}
		})
	}
	var sig struct {
		Vectors []struct {
			ID         string `json:"id"`
			RawData    string `json:"raw_data"`
			SessionKey string `json:"session_key"`
			Signature  string `json:"signature"`
			Valid      bool   `json:"valid"`
		} `json:"vectors"`
	}
	corpus.DecodeJSON(t, &sig, "crypto", "wxa_signature.json")
	for _, v := range sig.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			if got := rawDataSignature(v.RawData, v.SessionKey); (got == v.Signature) != v.Valid {
				t.Errorf("rawDataSignature = %s, corpus %s (valid %v)", got, v.Signature, v.Valid)
			}
		})
	}
}
