package pay

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestClientJSAPIParams(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, st := range []SignType{SignTypeMD5, SignTypeHMACSHA256} {
		t.Run(string(st), func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(testAppID, testMchID, testKey, WithSignType(st),
				WithClock(func() time.Time { return now }), WithNonce(func() string { return testNonce }))
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.JSAPIParams("wx201411101639507cbf6ffd8b0779950874")
			if err != nil {
				t.Fatalf("JSAPIParams = %v", err)
			}
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"appId": testAppID, "timeStamp": strconv.FormatInt(now.Unix(), 10), "nonceStr": testNonce,
				"package": "prepay_id=wx201411101639507cbf6ffd8b0779950874", "signType": string(st),
			}
			// paySign, recomputed by the platform-side signer.
			want["paySign"] = wireSign(want, testKey, st)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("JSAPIParams JSON (-want +got):\n%s", diff)
			}
			if err := p.Verify(testKey); err != nil {
				t.Errorf("Verify = %v", err)
			}
			tampered := []func(q *PayParams){
				func(q *PayParams) { q.AppID = "wx0000000000000000" },
				func(q *PayParams) { q.TimeStamp = "1" },
				func(q *PayParams) { q.NonceStr = "x" },
				func(q *PayParams) { q.Package = "prepay_id=wx2" },
				func(q *PayParams) { q.PaySign = "" },
			}
			for i, f := range tampered {
				q := *p
				f(&q)
				if err := q.Verify(testKey); !errors.Is(err, ErrInvalidSignature) {
					t.Errorf("tamper %d: Verify = %v, want ErrInvalidSignature", i, err)
				}
			}
			if err := p.Verify("another-key"); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("Verify(another key) = %v, want ErrInvalidSignature", err)
			}
		})
	}
}

func TestJSAPIParams(t *testing.T) {
	t.Parallel()
	p, err := JSAPIParams(testAppID, "wx1", "", testKey)
	if err != nil {
		t.Fatalf("JSAPIParams = %v", err)
	}
	if p.SignType != SignTypeMD5 || p.Package != "prepay_id=wx1" || p.AppID != testAppID {
		t.Errorf("JSAPIParams = %+v", p)
	}
	if _, err := strconv.ParseInt(p.TimeStamp, 10, 64); err != nil {
		t.Errorf("timeStamp %q is not Unix seconds: %v", p.TimeStamp, err)
	}
	if n := len(p.NonceStr); n == 0 || n > 32 {
		t.Errorf("nonceStr %q: want 1 to 32 characters", p.NonceStr)
	}
	f := map[string]string{"appId": p.AppID, "timeStamp": p.TimeStamp, "nonceStr": p.NonceStr, "package": p.Package, "signType": "MD5"}
	if want := wireSign(f, testKey, SignTypeMD5); p.PaySign != want {
		t.Errorf("paySign = %s, want %s", p.PaySign, want)
	}
	q, err := JSAPIParams(testAppID, "wx1", SignTypeMD5, testKey)
	if err != nil || q.NonceStr == p.NonceStr {
		t.Errorf("two calls share nonceStr %q (%v)", p.NonceStr, err)
	}
	for _, bad := range []struct{ appID, prepayID string }{{"", "wx1"}, {testAppID, ""}} {
		if _, err := JSAPIParams(bad.appID, bad.prepayID, SignTypeMD5, testKey); err == nil {
			t.Errorf("JSAPIParams(%q, %q) = nil error", bad.appID, bad.prepayID)
		}
	}
	if _, err := JSAPIParams(testAppID, "wx1", "RSA", testKey); !errors.Is(err, ErrInvalidSignType) {
		t.Errorf("JSAPIParams(RSA) = %v, want ErrInvalidSignType", err)
	}
	if err := (&PayParams{AppID: testAppID}).Sign(testKey); err == nil {
		t.Error("PayParams.Sign with empty fields = nil error")
	}
}
