package gateway

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/store"
)

// wxaVectors are the Mini Program vectors of the conformance corpus
// (crypto/wxa_decrypt.json, crypto/wxa_signature.json).
type wxaVectors struct {
	Vectors []struct {
		ID            string `json:"id"`
		AppID         string `json:"appid"`
		SessionKey    string `json:"session_key"`
		IV            string `json:"iv"`
		EncryptedData string `json:"encrypted_data"`
		Plaintext     string `json:"plaintext"`
		RawData       string `json:"raw_data"`
		Signature     string `json:"signature"`
		Valid         *bool  `json:"valid"`
	} `json:"vectors"`
}

// TestWXAProfileCorpus feeds /wxa/{appid}/profile the official sample of
// encryptedData (for its Mini Program, at its watermark's time) and the
// rawData signature vectors, each through a session holding the vector's
// session_key.
func TestWXAProfileCorpus(t *testing.T) {
	var dec, sig wxaVectors
	corpus.DecodeJSON(t, &dec, "crypto", "wxa_decrypt.json")
	corpus.DecodeJSON(t, &sig, "crypto", "wxa_signature.json")
	if len(dec.Vectors) == 0 || len(sig.Vectors) == 0 {
		t.Fatal("no Mini Program vectors in the corpus")
	}
	for _, v := range dec.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			var plain struct {
				OpenID    string `json:"openId"`
				NickName  string `json:"nickName"`
				UnionID   string `json:"unionId"`
				City      string `json:"city"`
				AvatarURL string `json:"avatarUrl"`
				Watermark struct {
					Timestamp int64 `json:"timestamp"`
				} `json:"watermark"`
			}
			if err := json.Unmarshal([]byte(v.Plaintext), &plain); err != nil {
				t.Fatal(err)
			}
			at := time.Unix(plain.Watermark.Timestamp, 0).Add(time.Minute)
			c := newCorpusGateway(t, v.AppID, at)
			tok := c.session(t, plain.OpenID, v.SessionKey)
			raw := `{"nickName":"` + plain.NickName + `"}`
			sum := sha1.Sum([]byte(raw + v.SessionKey)) // the signature as the platform computes it
			status, body := c.post(t, tok, map[string]string{"encrypted_data": v.EncryptedData, "iv": v.IV,
				"raw_data": raw, "signature": hex.EncodeToString(sum[:])})
			var u store.User
			if status != http.StatusOK || json.Unmarshal(body, &u) != nil {
				t.Fatalf("POST /profile = %d %s, want 200", status, body)
			}
			if u.OpenID != plain.OpenID || u.Nickname != plain.NickName || u.UnionID != plain.UnionID ||
				u.City != plain.City || u.HeadImgURL != plain.AvatarURL {
				t.Errorf("POST /profile = %+v, want the vector's profile %s", u, v.Plaintext)
			}
			// Two hours later the same data is a replay: refused.
			c.at.Store(at.Add(2 * time.Hour).UnixNano())
			if status, body := c.post(t, tok, map[string]string{"encrypted_data": v.EncryptedData, "iv": v.IV,
				"raw_data": raw, "signature": hex.EncodeToString(sum[:])}); status != http.StatusBadRequest || !strings.Contains(string(body), "watermark") {
				t.Errorf("POST /profile two hours after the watermark = %d %s, want 400 (watermark)", status, body)
			}
		})
	}
	for _, v := range sig.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			c := newCorpusGateway(t, "wx4f4bc4dec97d474b", time.Now())
			tok := c.session(t, "oGZUI0egBJY1zhBYw2KhdUfwVJJE", v.SessionKey)
			// The encrypted data is not under this key: a valid signature
			// gets as far as decryption, an invalid one stops before.
			status, body := c.post(t, tok, map[string]string{"encrypted_data": dec.Vectors[0].EncryptedData,
				"iv": dec.Vectors[0].IV, "raw_data": v.RawData, "signature": v.Signature})
			if status != http.StatusBadRequest {
				t.Fatalf("POST /profile = %d %s, want 400", status, body)
			}
			if refused := strings.Contains(string(body), "signature"); refused == (v.Valid == nil || *v.Valid) {
				t.Errorf("POST /profile (signature valid: %v) = %s", v.Valid == nil || *v.Valid, body)
			}
		})
	}
}

// corpusGateway is a gateway with one Mini Program and no platform (the
// profile route calls none), on a clock the test sets.
type corpusGateway struct {
	g     *Gateway
	url   string
	appID string
	at    atomic.Int64 // the clock, Unix ns
}

func (c *corpusGateway) now() time.Time { return time.Unix(0, c.at.Load()) }

func newCorpusGateway(t *testing.T, appID string, at time.Time) *corpusGateway {
	return newOfflineGateway(t, appID, at, nil)
}

// newOfflineGateway is newCorpusGateway logging to logs (nil: nowhere).
func newOfflineGateway(t *testing.T, appID string, at time.Time, logs *logBuffer) *corpusGateway {
	t.Helper()
	cfg := &Config{Store: "sqlite://" + filepath.Join(t.TempDir(), "wxa.db"),
		WeChat: WeChatConfig{APIBase: "http://127.0.0.1:9", OpenBase: "http://127.0.0.1:9", PayBase: "http://127.0.0.1:9"},
		Apps:   []AppConfig{{AppID: appID, Type: AppTypeMiniProgram, Secret: strings.Repeat("s", 32)}}}
	if err := cfg.Normalize(); err != nil {
		t.Fatal(err)
	}
	c := &corpusGateway{appID: appID}
	c.at.Store(at.UnixNano())
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	g, err := New(t.Context(), cfg, logger, WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	c.g, c.url = g, srv.URL
	return c
}

// session stores a Mini Program session of openID holding sessionKey and
// returns its token.
func (c *corpusGateway) session(t *testing.T, openID, sessionKey string) string {
	t.Helper()
	tok := "corpus-" + randHex(t, 16)
	sealed, err := sealSessionKey(tok, c.appID, openID, sessionKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.g.Stores().Sessions.CreateSession(t.Context(), tok, &store.Session{AppID: c.appID, OpenID: openID,
		Created: c.now(), Expires: c.now().Add(24 * time.Hour), SealedSessionKey: sealed}); err != nil {
		t.Fatal(err)
	}
	return tok
}

func (c *corpusGateway) post(t *testing.T, tok string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", c.url+"/wxa/"+c.appID+"/profile", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}
