package emulator

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/internal/corpus"
)

// The corpus pay vectors that apply to the platform's side: the emulator
// signs, encrypts and parses with its own code and must reproduce them.

type corpusFile[T any] struct {
	Vectors []T `json:"vectors"`
}

func TestPayCorpusV2Sign(t *testing.T) {
	t.Parallel()
	var f corpusFile[struct {
		ID             string            `json:"id"`
		Params         map[string]string `json:"params"`
		APIKey         string            `json:"api_key"`
		SignType       string            `json:"sign_type"`
		Sign           string            `json:"sign"`
		StringSignTemp *string           `json:"string_sign_temp"`
	}]
	corpus.DecodeJSON(t, &f, "pay", "v2_sign.json")
	for _, v := range f.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			got, err := v2Sign(v.Params, v.APIKey, v.SignType)
			if err != nil || got != v.Sign {
				t.Errorf("v2Sign = %s, %v, want %s", got, err, v.Sign)
			}
			if v.StringSignTemp != nil && v2SignString(v.Params, v.APIKey) != *v.StringSignTemp {
				t.Errorf("v2SignString = %q, want %q", v2SignString(v.Params, v.APIKey), *v.StringSignTemp)
			}
			signed := maps.Clone(v.Params)
			signed["sign"] = strings.ToLower(v.Sign)
			if !v2SignOK(signed, v.APIKey, v.SignType) {
				t.Error("v2SignOK(the vector) = false")
			}
			signed["sign"] = v.Sign
			signed["extra"] = "x"
			if v2SignOK(signed, v.APIKey, v.SignType) {
				t.Error("v2SignOK with an unsigned field = true")
			}
		})
	}
	// The official MD5 sample is accepted as a request by a merchant with
	// its key (it lacks out_trade_no, so the business answer is LACK_PARAMS).
	v := f.Vectors[0]
	if v.ID != "official-md5" {
		t.Fatalf("first vector is %s", v.ID)
	}
	e := newTest(t, func(c *Config) {
		c.Merchants = []MerchantConfig{{MchID: v.Params["mch_id"], AppIDs: []string{v.Params["appid"]}, APIKey: v.APIKey}}
	})
	req := maps.Clone(v.Params)
	req["sign"] = v.Sign
	a := clientParseXML(t, serveHTTP(e, newRequest(t, "POST", "/pay/orderquery", clientXML(req))).Body.Bytes())
	if a["return_code"] != "SUCCESS" || a["err_code"] != "LACK_PARAMS" {
		t.Errorf("orderquery with the official sample = %v", a)
	}
	req["body"] = "changed"
	a = clientParseXML(t, serveHTTP(e, newRequest(t, "POST", "/pay/orderquery", clientXML(req))).Body.Bytes())
	if a["return_code"] != "FAIL" {
		t.Errorf("orderquery with a changed sample = %v", a)
	}
}

func TestPayCorpusRefundReqInfo(t *testing.T) {
	t.Parallel()
	var f corpusFile[struct {
		ID           string            `json:"id"`
		APIKey       string            `json:"api_key"`
		ReqInfo      string            `json:"req_info"`
		Plaintext    string            `json:"plaintext"`
		ExpectFields map[string]string `json:"expect_fields"`
		NotifyXML    string            `json:"notify_xml"`
		AppID        string            `json:"appid"`
		MchID        string            `json:"mch_id"`
	}]
	corpus.DecodeJSON(t, &f, "pay", "v2_refund_req_info.json")
	for _, v := range f.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			// ECB is deterministic: encrypting the plaintext gives req_info exactly.
			got, err := aesECBEncrypt(refundReqInfoKey(v.APIKey), []byte(v.Plaintext))
			if err != nil || got != v.ReqInfo {
				t.Errorf("aesECBEncrypt = %.40s..., %v, want %.40s...", got, err, v.ReqInfo)
			}
			fields, err := parseV2XML([]byte(v.Plaintext))
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range v.ExpectFields {
				if fields[k] != want {
					t.Errorf("plaintext %s = %q, want %q", k, fields[k], want)
				}
			}
			if v.NotifyXML != "" {
				n, err := parseV2XML([]byte(v.NotifyXML))
				if err != nil || n["req_info"] != v.ReqInfo || n["appid"] != v.AppID || n["mch_id"] != v.MchID {
					t.Errorf("notify = %v, %v", n, err)
				}
			}
		})
	}
}

func TestPayCorpusV2Samples(t *testing.T) {
	t.Parallel()
	samples := map[string]map[string]string{}
	for _, side := range corpus.Glob(t, "pay/v2/*.json") {
		var s struct {
			ID     string            `json:"id"`
			Fields map[string]string `json:"fields"`
		}
		b, err := os.ReadFile(side)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		x, err := os.ReadFile(strings.TrimSuffix(side, ".json") + ".xml")
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseV2XML(x)
		if err != nil {
			t.Errorf("%s: parseV2XML: %v", s.ID, err)
			continue
		}
		if !maps.Equal(got, s.Fields) {
			t.Errorf("%s: parseV2XML = %v, want %v", s.ID, got, s.Fields)
		}
		samples[filepath.Base(strings.TrimSuffix(side, ".json"))] = s.Fields
	}

	// The emulator's documents use the real field names: each carries every
	// field of the official sample, but those of other modes.
	f := newPayFixture(t, nil)
	f.srv.setAnswer(func(int, received) (int, string) { return 200, v2Success })
	uo := f.v2("/pay/unifiedorder", map[string]string{"body": "b", "out_trade_no": "CORPUS0001", "total_fee": "1",
		"spbill_create_ip": "10.0.0.1", "notify_url": f.notify, "trade_type": "JSAPI", "openid": testOpenID, "device_info": "1000"})
	f.pay(uo["prepay_id"], Payment{Coupons: []Coupon{}})
	prepay := f.unifiedOrder("CORPUS0002", 1000, map[string]string{"attach": "a", "device_info": "1000"})
	f.pay(prepay, Payment{Coupons: []Coupon{{ID: "1", Amount: 1}, {ID: "2", Type: "NO_CASH", Amount: 2}}})
	notify := clientParseXML(t, f.srv.received()[1].Body)
	query := f.v2("/pay/orderquery", map[string]string{"out_trade_no": "CORPUS0002"})
	for _, c := range []struct {
		sample string
		ours   map[string]string
		except []string // fields of other modes
	}{
		{"unifiedorder_response", uo, []string{"openid"}}, // openid: older answers echoed it
		{"notify_pay_result", notify, []string{"sub_mch_id"}},
		{"orderquery_response", query, nil},
	} {
		for k := range samples[c.sample] {
			if _, ok := c.ours[k]; !ok && !slices.Contains(c.except, k) {
				t.Errorf("%s: the emulator's document lacks %s (ours: %v)", c.sample, k, slices.Sorted(maps.Keys(c.ours)))
			}
		}
	}

	// The sample merchant replies are judged as the platform does.
	for _, c := range []struct {
		sample string
		ack    bool
	}{{"notify_reply_success", true}, {"notify_reply_fail", false}} {
		x := string(corpus.ReadFile(t, "pay", "v2", c.sample+".xml"))
		f.srv.setAnswer(func(int, received) (int, string) { return 200, x })
		atts, err := f.e.ResendNotify(t.Context(), testMchID, "CORPUS0002", 1)
		if err != nil || len(atts) != 1 || atts[0].Acknowledged != c.ack {
			t.Errorf("%s: acknowledged = %+v, %v, want %v", c.sample, atts, err, c.ack)
		}
	}
}

func TestPayCorpusAESGCM(t *testing.T) {
	t.Parallel()
	var f corpusFile[struct {
		ID             string  `json:"id"`
		APIv3Key       string  `json:"api_v3_key"`
		Nonce          string  `json:"nonce"`
		AssociatedData string  `json:"associated_data"`
		Ciphertext     string  `json:"ciphertext"`
		Plaintext      *string `json:"plaintext"`
		Valid          *bool   `json:"valid"`
	}]
	corpus.DecodeJSON(t, &f, "pay", "v3_aes_gcm.json")
	for _, v := range f.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			switch {
			case v.Valid == nil: // not a decryptable vector: its key is not an AES key
				if _, err := aesGCMSeal(v.APIv3Key, v.Nonce, v.AssociatedData, []byte("x")); err == nil {
					t.Errorf("aesGCMSeal with key %q succeeded", v.APIv3Key)
				}
			case *v.Valid:
				got, err := aesGCMSeal(v.APIv3Key, v.Nonce, v.AssociatedData, []byte(*v.Plaintext))
				if err != nil || got != v.Ciphertext {
					t.Errorf("aesGCMSeal = %s, %v, want %s", got, err, v.Ciphertext)
				}
			default: // the wrong key: sealing anything with it never gives the ciphertext
				got, err := aesGCMSeal(v.APIv3Key, v.Nonce, v.AssociatedData, []byte("Hello World"))
				if err != nil || got == v.Ciphertext {
					t.Errorf("aesGCMSeal with the wrong key = %s, %v", got, err)
				}
			}
		})
	}
}

// corpusRSA is the v3_rsa.json vector.
type corpusRSA struct {
	ID                string `json:"id"`
	PrivateKeyPEM     string `json:"private_key_pem"`
	CertificatePEM    string `json:"certificate_pem"`
	CertificateSerial string `json:"certificate_serial"`
	Message           string `json:"message"`
	Signature         string `json:"signature"`
}

func TestPayCorpusRSA(t *testing.T) {
	t.Parallel()
	var f corpusFile[corpusRSA]
	corpus.DecodeJSON(t, &f, "pay", "v3_rsa.json")
	for _, v := range f.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			key, err := parsePrivateKeyPEM([]byte(strings.ReplaceAll(v.PrivateKeyPEM, "TESTING KEY", "PRIVATE KEY")))
			if err != nil {
				t.Fatal(err)
			}
			got, err := rsaSign(key, v.Message)
			if err != nil || got != v.Signature {
				t.Errorf("rsaSign = %.30s..., %v, want %.30s...", got, err, v.Signature)
			}
			pub, serial, err := parsePublicKeyPEM([]byte(v.CertificatePEM))
			if err != nil || serial != v.CertificateSerial {
				t.Fatalf("certificate serial = %s, %v, want %s", serial, err, v.CertificateSerial)
			}
			if !rsaVerify(pub, v.Message, v.Signature) || rsaVerify(pub, v.Message+"x", v.Signature) {
				t.Error("rsaVerify does not tell the message from another")
			}
		})
	}
}

func TestPayCorpusAuthorization(t *testing.T) {
	t.Parallel()
	var f corpusFile[struct {
		ID            string `json:"id"`
		MchID         string `json:"mchid"`
		SerialNo      string `json:"serial_no"`
		Nonce         string `json:"nonce"`
		Timestamp     string `json:"timestamp"`
		Method        string `json:"method"`
		CanonicalURL  string `json:"canonical_url"`
		Body          string `json:"body"`
		Algorithm     string `json:"algorithm"`
		Message       string `json:"message"`
		Authorization string `json:"authorization"`
	}]
	corpus.DecodeJSON(t, &f, "pay", "v3_authorization.json")
	for _, v := range f.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			if got := v3RequestMessage(v.Method, v.CanonicalURL, v.Timestamp, v.Nonce, v.Body); got != v.Message {
				t.Errorf("v3RequestMessage = %q, want %q", got, v.Message)
			}
			scheme, p, ok := parseAuthorization(v.Authorization)
			want := map[string]string{"mchid": v.MchID, "nonce_str": v.Nonce, "timestamp": v.Timestamp,
				"serial_no": v.SerialNo, "signature": "Sign:" + v.Message}
			if !ok || scheme != "WECHATPAY2-"+v.Algorithm || !maps.Equal(p, want) {
				t.Errorf("parseAuthorization = %s %v %v, want %v", scheme, p, ok, want)
			}
		})
	}
}

func TestPayCorpusNotify(t *testing.T) {
	t.Parallel()
	var f corpusFile[struct {
		ID                     string            `json:"id"`
		Headers                map[string]string `json:"headers"`
		Body                   string            `json:"body"`
		SignMessage            string            `json:"sign_message"`
		PlatformCertificatePEM string            `json:"platform_certificate_pem"`
		APIv3Key               string            `json:"api_v3_key"`
		Expected               map[string]string `json:"expected"`
	}]
	corpus.DecodeJSON(t, &f, "pay", "v3_notify.json")
	var keys corpusFile[corpusRSA]
	corpus.DecodeJSON(t, &keys, "pay", "v3_rsa.json")
	// The corpus test key is the key of the corpus notify's platform certificate.
	key, err := parsePrivateKeyPEM([]byte(strings.ReplaceAll(keys.Vectors[0].PrivateKeyPEM, "TESTING KEY", "PRIVATE KEY")))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range f.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			h := v.Headers
			if got := v3AnswerMessage(h["Wechatpay-Timestamp"], h["Wechatpay-Nonce"], []byte(v.Body)); got != v.SignMessage {
				t.Errorf("v3AnswerMessage = %q, want %q", got, v.SignMessage)
			}
			pub, serial, err := parsePublicKeyPEM([]byte(v.PlatformCertificatePEM))
			if err != nil || serial != h["Wechatpay-Serial"] {
				t.Fatalf("certificate serial = %s, %v, want %s", serial, err, h["Wechatpay-Serial"])
			}
			if !rsaVerify(pub, v.SignMessage, h["Wechatpay-Signature"]) {
				t.Error("the corpus signature does not verify")
			}
			if !pub.Equal(&key.PublicKey) {
				t.Fatal("the corpus key is not the certificate's")
			}
			// Signing is deterministic: the platform's signature is reproduced.
			if got, err := rsaSign(key, v.SignMessage); err != nil || got != h["Wechatpay-Signature"] {
				t.Errorf("rsaSign = %.30s..., %v, want the header", got, err)
			}
			var env v3NotifyEnvelope
			if err := json.Unmarshal([]byte(v.Body), &env); err != nil {
				t.Fatal(err)
			}
			ct, err := aesGCMSeal(v.APIv3Key, env.Resource.Nonce, env.Resource.AssociatedData, []byte(v.Expected["plaintext"]))
			if err != nil || ct != env.Resource.Ciphertext {
				t.Errorf("aesGCMSeal = %.30s..., %v, want the resource", ct, err)
			}
			for _, c := range []struct{ got, want string }{
				{env.ID, v.Expected["id"]}, {env.CreateTime, v.Expected["create_time"]},
				{env.ResourceType, v.Expected["resource_type"]}, {env.EventType, v.Expected["event_type"]},
				{env.Summary, v.Expected["summary"]}, {env.Resource.OriginalType, v.Expected["resource.original_type"]},
				{env.Resource.Algorithm, v.Expected["resource.algorithm"]},
				{env.Resource.AssociatedData, v.Expected["resource.associated_data"]},
			} {
				if c.got != c.want {
					t.Errorf("envelope field %q, want %q", c.got, c.want)
				}
			}
			// The emulator's envelope has the corpus's field order.
			re, err := marshalJSON(env)
			if err != nil || string(re) != v.Body {
				t.Errorf("re-encoded envelope =\n%s\nwant\n%s", re, v.Body)
			}
		})
	}
}
