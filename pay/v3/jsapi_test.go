package payv3

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestJSAPIParams: the parameters getBrandWCPayRequest takes, their JSON
// spelling, and a paySign that verifies with crypto/rsa over
// "appId\ntimeStamp\nnonceStr\npackage\n" with the merchant's public key.
func TestJSAPIParams(t *testing.T) {
	t.Parallel()
	p, base := newPlatform(t, modePublicKey)
	c := newTestClient(t, p, base)
	got, err := c.JSAPIParams(testAppID, "wx201410272009395522657a690389285100")
	if err != nil {
		t.Fatal(err)
	}
	if got.AppID != testAppID || got.TimeStamp != "1740801600" || got.Package != "prepay_id=wx201410272009395522657a690389285100" ||
		got.SignType != "RSA" || got.NonceStr == "" || len(got.NonceStr) > 32 {
		t.Errorf("JSAPIParams = %+v", got)
	}
	sig, err := base64.StdEncoding.DecodeString(got.PaySign)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte(got.AppID + "\n" + got.TimeStamp + "\n" + got.NonceStr + "\n" + got.Package + "\n"))
	if err := rsa.VerifyPKCS1v15(&keys().merchant.PublicKey, crypto.SHA256, h[:], sig); err != nil {
		t.Errorf("paySign does not verify: %v", err)
	}
	b, _ := json.Marshal(got)
	var m map[string]string
	json.Unmarshal(b, &m)
	want := map[string]string{"appId": got.AppID, "timeStamp": got.TimeStamp, "nonceStr": got.NonceStr,
		"package": got.Package, "signType": "RSA", "paySign": got.PaySign}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	again, _ := c.JSAPIParams(testAppID, "wx201410272009395522657a690389285100")
	if again.NonceStr == got.NonceStr {
		t.Errorf("nonceStr repeated: %s", got.NonceStr)
	}
	for _, bad := range [][2]string{{"", "p"}, {testAppID, ""}, {testAppID, "p\nq"}, {"wx\n", "p"}} {
		if _, err := c.JSAPIParams(bad[0], bad[1]); err == nil {
			t.Errorf("JSAPIParams(%q, %q) = nil error", bad[0], bad[1])
		}
	}
}
