package payv3_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log"
	"net/http"
	"time"

	payv3 "github.com/wxkit/wxkit/pay/v3"
)

// The front end's parameters for a prepay_id: what getBrandWCPayRequest
// (or wx.requestPayment) takes, with paySign made by the merchant's key.
func ExampleClient_JSAPIParams() {
	key, err := rsa.GenerateKey(rand.Reader, 2048) // in production: payv3.ParsePrivateKeyPEM(apiclient_key.pem)
	if err != nil {
		log.Fatal(err)
	}
	clock := func() time.Time { return time.Unix(1414561699, 0) }
	c, err := payv3.NewClient("1900000109", "5157F09EFDC096DE15EBE81A47057A7232F1B8E1", key,
		"0123456789abcdefghijABCDEFGHIJ01", payv3.WithClock(clock))
	if err != nil {
		log.Fatal(err)
	}
	p, err := c.JSAPIParams("wx8888888888888888", "wx201410272009395522657a690389285100")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.AppID, p.TimeStamp, p.Package, p.SignType)

	// What the WeChat client checks.
	sig, _ := base64.StdEncoding.DecodeString(p.PaySign)
	h := sha256.Sum256([]byte(p.AppID + "\n" + p.TimeStamp + "\n" + p.NonceStr + "\n" + p.Package + "\n"))
	fmt.Println("paySign verifies:", rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, h[:], sig) == nil)
	// Output:
	// wx8888888888888888 1414561699 prepay_id=wx201410272009395522657a690389285100 RSA
	// paySign verifies: true
}

// A notify handler: verify and decrypt, match the notify against the order
// and apply it once, then answer 204 (a repeat too) or a 4xx/5xx, which
// makes the platform send it again later.
func ExampleParseNotify() {
	// A merchant created since late 2024 has a WeChat Pay public key and no
	// platform certificate: notifies name it PUB_KEY_ID_....
	pubKeyPEM := []byte("...") // pub_key.pem from the merchant platform
	keys, err := payv3.NewPublicKeyVerifier("PUB_KEY_ID_0119000001092024101100000000000001", pubKeyPEM)
	if err != nil {
		log.Print(err)
		return
	}
	apiV3Key := "0123456789abcdefghijABCDEFGHIJ01"
	http.HandleFunc("POST /pay/v3/notify/1900000109", func(w http.ResponseWriter, r *http.Request) {
		n, err := payv3.ParseNotify(r, keys, apiV3Key, 0)
		if err != nil {
			payv3.WriteNotifyResponse(w, err, http.StatusUnauthorized, "verification failed")
			return
		}
		if n.Transaction != nil && n.Transaction.TradeState == payv3.TradeStateSuccess {
			// Check appid, mchid, out_trade_no and amount against the
			// order, then mark it paid in one transaction.
		}
		payv3.WriteNotifyResponse(w, nil, 0, "")
	})
}
