package wxcrypto

import (
	"encoding/xml"
	"errors"
	"maps"
	"testing"
)

type paySignVector struct {
	vectorBase
	Params         map[string]string `json:"params"`
	APIKey         string            `json:"api_key"`
	SignType       SignType          `json:"sign_type"`
	Sign           string            `json:"sign"`
	StringSignTemp *string           `json:"string_sign_temp"`
}

func TestPaySignCorpus(t *testing.T) {
	t.Parallel()
	types := map[SignType]int{}
	for _, v := range loadVectors[paySignVector](t, "pay/v2_sign.json") {
		types[v.SignType]++
		t.Run(v.name(), func(t *testing.T) {
			t.Parallel()
			got, err := PaySign(v.Params, v.APIKey, v.SignType)
			if err != nil {
				t.Fatalf("PaySign: %v", err)
			}
			if got != v.Sign {
				t.Errorf("PaySign = %s, want %s", got, v.Sign)
			}
			if v.StringSignTemp != nil {
				if s := PaySignString(v.Params, v.APIKey); s != *v.StringSignTemp {
					t.Errorf("PaySignString = %q, want %q", s, *v.StringSignTemp)
				}
			}

			signed := maps.Clone(v.Params)
			signed["sign"] = v.Sign
			if err := CheckPaySign(signed, v.APIKey, v.SignType); err != nil {
				t.Errorf("CheckPaySign(valid) = %v", err)
			}
			// The sign itself and empty values are not signed.
			withEmpty := maps.Clone(signed)
			withEmpty["zz_empty"] = ""
			if err := CheckPaySign(withEmpty, v.APIKey, v.SignType); err != nil {
				t.Errorf("CheckPaySign(with an empty param) = %v, want nil", err)
			}

			other := SignTypeMD5
			if v.SignType == SignTypeMD5 {
				other = SignTypeHMACSHA256
			}
			negatives := []struct {
				name     string
				params   map[string]string
				key      string
				signType SignType
				want     error
			}{
				{"sign missing", v.Params, v.APIKey, v.SignType, ErrInvalidSignature},
				{"wrong key", signed, v.APIKey + "x", v.SignType, ErrInvalidSignature},
				{"other sign type", signed, v.APIKey, other, ErrInvalidSignature},
				{"param changed", with(signed, "nonce_str", "changed"), v.APIKey, v.SignType, ErrInvalidSignature},
				{"param added", with(signed, "extra", "1"), v.APIKey, v.SignType, ErrInvalidSignature},
				{"sign truncated", with(signed, "sign", v.Sign[:len(v.Sign)-1]), v.APIKey, v.SignType, ErrInvalidSignature},
				{"sign flipped", with(signed, "sign", flipHex(v.Sign)), v.APIKey, v.SignType, ErrInvalidSignature},
				{"unknown sign type", signed, v.APIKey, "SHA1", ErrInvalidSignType},
			}
			for _, n := range negatives {
				if err := CheckPaySign(n.params, n.key, n.signType); !errors.Is(err, n.want) {
					t.Errorf("%s: CheckPaySign = %v, want %v", n.name, err, n.want)
				}
			}
		})
	}
	if types[SignTypeMD5] == 0 || types[SignTypeHMACSHA256] == 0 {
		t.Errorf("sign types in corpus = %v, want both MD5 and HMAC-SHA256", types)
	}
}

func TestPaySignDefaults(t *testing.T) {
	t.Parallel()
	p := map[string]string{"a": "1", "b": "2"}
	md5Sign, err := PaySign(p, "k", SignTypeMD5)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := PaySign(p, "k", ""); err != nil || got != md5Sign {
		t.Errorf(`PaySign(signType "") = %s, %v; want the MD5 sign %s`, got, err, md5Sign)
	}
	if _, err := PaySign(p, "k", "RSA"); !errors.Is(err, ErrInvalidSignType) {
		t.Errorf("PaySign(RSA) = %v, want ErrInvalidSignType", err)
	}
	if got, want := PaySignString(map[string]string{"b": "2", "a": "1", "sign": "X", "c": ""}, "k"), "a=1&b=2&key=k"; got != want {
		t.Errorf("PaySignString = %q, want %q", got, want)
	}
}

func with(m map[string]string, k, v string) map[string]string {
	c := maps.Clone(m)
	c[k] = v
	return c
}

type refundVector struct {
	vectorBase
	APIKey       string            `json:"api_key"`
	ReqInfo      string            `json:"req_info"`
	Plaintext    string            `json:"plaintext"`
	ExpectFields map[string]string `json:"expect_fields"`
	NotifyXML    *string           `json:"notify_xml"`
	AppID        *string           `json:"appid"`
	MchID        *string           `json:"mch_id"`
}

func TestRefundReqInfoCorpus(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors[refundVector](t, "pay/v2_refund_req_info.json") {
		t.Run(v.name(), func(t *testing.T) {
			t.Parallel()
			got, err := DecryptRefundReqInfo(v.APIKey, v.ReqInfo)
			if err != nil {
				t.Fatalf("DecryptRefundReqInfo: %v", err)
			}
			if string(got) != v.Plaintext {
				t.Errorf("DecryptRefundReqInfo = %q, want %q", got, v.Plaintext)
			}
			enc, err := EncryptRefundReqInfo(v.APIKey, []byte(v.Plaintext))
			if err != nil || enc != v.ReqInfo {
				t.Errorf("EncryptRefundReqInfo = %s, %v; want %s", enc, err, v.ReqInfo)
			}
			if len(v.ExpectFields) > 0 {
				m := xmlFields(t, got)
				for path, want := range v.ExpectFields {
					if val, ok := m[path]; !ok || val != want {
						t.Errorf("plaintext %s = %q, %v; want %q", path, val, ok, want)
					}
				}
			}
			if v.NotifyXML != nil {
				n := xmlFields(t, []byte(*v.NotifyXML))
				checks := map[string]string{"req_info": v.ReqInfo, "appid": str(v.AppID), "mch_id": str(v.MchID)}
				for path, want := range checks {
					if want == "" {
						continue
					}
					if val, ok := n[path]; !ok || val != want {
						t.Errorf("notify %s = %q, %v; want %q", path, val, ok, want)
					}
				}
			}
			if out, err := DecryptRefundReqInfo(v.APIKey+"x", v.ReqInfo); err == nil && string(out) == v.Plaintext {
				t.Error("DecryptRefundReqInfo with another key gives the plaintext")
			}
		})
	}
	for _, bad := range []string{"", "!!", "YWJj"} {
		if _, err := DecryptRefundReqInfo("k", bad); !errors.Is(err, ErrInvalidCiphertext) {
			t.Errorf("DecryptRefundReqInfo(%q) = %v, want ErrInvalidCiphertext", bad, err)
		}
	}
}

// xmlFields reads the top-level elements of a Pay v2 XML document.
func xmlFields(t *testing.T, b []byte) map[string]string {
	t.Helper()
	var doc struct {
		Fields []struct {
			XMLName xml.Name
			Text    string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse %q: %v", b, err)
	}
	out := make(map[string]string, len(doc.Fields))
	for _, f := range doc.Fields {
		out[f.XMLName.Local] = f.Text
	}
	return out
}
