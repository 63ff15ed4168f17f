package pay

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wxkit/wxkit/internal/corpus"
)

// vectorBase holds the fields common to every corpus vector.
type vectorBase struct {
	ID            string   `json:"id"`
	Status        string   `json:"status"`
	DerivedFields []string `json:"derived_fields"`
}

// name is the subtest name: the id and the status; derived values are
// marked as regression values.
func (v vectorBase) name() string {
	status := v.Status
	if status == "derived" {
		status = "derived-regression"
	}
	if len(v.DerivedFields) > 0 {
		status += ",regression:" + strings.Join(v.DerivedFields, "+")
	}
	return v.ID + "[" + status + "]"
}

// loadVectors reads {"vectors": [...]} from a corpus file, failing the
// test when it is missing or holds none.
func loadVectors[T any](t testing.TB, elem ...string) []T {
	t.Helper()
	var f struct {
		Vectors []T `json:"vectors"`
	}
	corpus.DecodeJSON(t, &f, elem...)
	if len(f.Vectors) == 0 {
		t.Fatalf("corpus %s: no vectors", filepath.Join(elem...))
	}
	return f.Vectors
}

type signVector struct {
	vectorBase
	Params         map[string]string `json:"params"`
	APIKey         string            `json:"api_key"`
	SignType       SignType          `json:"sign_type"`
	Sign           string            `json:"sign"`
	StringSignTemp *string           `json:"string_sign_temp"`
}

// TestCorpusSign consumes every vector of pay/v2_sign.json: Sign,
// SignString, CheckSign and its negatives, the test's own signer, and
// PayParams for the JSAPI paySign vectors.
func TestCorpusSign(t *testing.T) {
	t.Parallel()
	types := map[SignType]int{}
	jsapi := 0
	for _, v := range loadVectors[signVector](t, "pay", "v2_sign.json") {
		types[v.SignType]++
		isJSAPI := strings.HasPrefix(v.Params["package"], "prepay_id=")
		if isJSAPI {
			jsapi++
		}
		t.Run(v.name(), func(t *testing.T) {
			t.Parallel()
			got, err := Sign(v.Params, v.APIKey, v.SignType)
			if err != nil || got != v.Sign {
				t.Errorf("Sign = %s, %v; want %s", got, err, v.Sign)
			}
			if w := wireSign(v.Params, v.APIKey, v.SignType); w != v.Sign {
				t.Errorf("the test's own signer = %s, want %s", w, v.Sign)
			}
			if v.StringSignTemp != nil {
				if s := SignString(v.Params, v.APIKey); s != *v.StringSignTemp {
					t.Errorf("SignString = %q, want %q", s, *v.StringSignTemp)
				}
			}
			withSign := maps.Clone(v.Params)
			withSign["sign"] = v.Sign
			if err := CheckSign(withSign, v.APIKey, v.SignType); err != nil {
				t.Errorf("CheckSign(valid) = %v", err)
			}
			lower := maps.Clone(withSign)
			lower["sign"] = strings.ToLower(v.Sign)
			if err := CheckSign(lower, v.APIKey, v.SignType); err != nil {
				t.Errorf("CheckSign(lower-case hex) = %v", err)
			}
			withEmpty := maps.Clone(withSign)
			withEmpty["zz_empty"] = ""
			if err := CheckSign(withEmpty, v.APIKey, v.SignType); err != nil {
				t.Errorf("CheckSign(an empty field added) = %v, want nil (empty values are not signed)", err)
			}
			other := SignTypeMD5
			if v.SignType == SignTypeMD5 {
				other = SignTypeHMACSHA256
			}
			set := func(k, val string) map[string]string {
				c := maps.Clone(withSign)
				c[k] = val
				return c
			}
			anyKey := ""
			for k := range v.Params {
				anyKey = k
				break
			}
			negatives := []struct {
				name     string
				params   map[string]string
				key      string
				signType SignType
				want     error
			}{
				{"sign missing", v.Params, v.APIKey, v.SignType, ErrInvalidSignature},
				{"sign empty", set("sign", ""), v.APIKey, v.SignType, ErrInvalidSignature},
				{"wrong key", withSign, v.APIKey + "x", v.SignType, ErrInvalidSignature},
				{"other sign type", withSign, v.APIKey, other, ErrInvalidSignature},
				{"field changed", set(anyKey, v.Params[anyKey]+"x"), v.APIKey, v.SignType, ErrInvalidSignature},
				{"field removed", without(withSign, anyKey), v.APIKey, v.SignType, ErrInvalidSignature},
				{"field added", set("zz_extra", "1"), v.APIKey, v.SignType, ErrInvalidSignature},
				{"sign truncated", set("sign", v.Sign[:len(v.Sign)-1]), v.APIKey, v.SignType, ErrInvalidSignature},
				{"unknown sign type", withSign, v.APIKey, "SHA1", ErrInvalidSignType},
			}
			for _, n := range negatives {
				if err := CheckSign(n.params, n.key, n.signType); !errors.Is(err, n.want) {
					t.Errorf("%s: CheckSign = %v, want %v", n.name, err, n.want)
				}
			}
			if isJSAPI {
				p := &PayParams{
					AppID:     v.Params["appId"],
					TimeStamp: v.Params["timeStamp"],
					NonceStr:  v.Params["nonceStr"],
					Package:   v.Params["package"],
					SignType:  SignType(v.Params["signType"]),
				}
				if err := p.Sign(v.APIKey); err != nil || p.PaySign != v.Sign {
					t.Errorf("PayParams.Sign: paySign = %s, %v; want %s", p.PaySign, err, v.Sign)
				}
				if err := p.Verify(v.APIKey); err != nil {
					t.Errorf("PayParams.Verify = %v", err)
				}
				b, err := json.Marshal(p)
				if err != nil {
					t.Fatal(err)
				}
				var js map[string]string
				if err := json.Unmarshal(b, &js); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(withSign, renameKey(js, "paySign", "sign")); diff != "" {
					t.Errorf("PayParams JSON names differ from the vector's (-vector +json):\n%s", diff)
				}
			}
		})
	}
	if types[SignTypeMD5] == 0 || types[SignTypeHMACSHA256] == 0 || jsapi == 0 {
		t.Errorf("corpus sign types %v, %d JSAPI paySign vectors; want both types and JSAPI vectors", types, jsapi)
	}
}

func renameKey(m map[string]string, from, to string) map[string]string {
	c := maps.Clone(m)
	c[to] = c[from]
	delete(c, from)
	return c
}

type reqInfoVector struct {
	vectorBase
	APIKey       string            `json:"api_key"`
	ReqInfo      string            `json:"req_info"`
	Plaintext    string            `json:"plaintext"`
	ExpectFields map[string]string `json:"expect_fields"`
	NotifyXML    *string           `json:"notify_xml"`
	AppID        *string           `json:"appid"`
	MchID        *string           `json:"mch_id"`
}

// TestCorpusRefundReqInfo consumes every vector of
// pay/v2_refund_req_info.json: decryption, re-encryption, the fields the
// source asserts, and ParseRefundNotify over the vector's notify (or one
// built around its req_info).
func TestCorpusRefundReqInfo(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors[reqInfoVector](t, "pay", "v2_refund_req_info.json") {
		t.Run(v.name(), func(t *testing.T) {
			t.Parallel()
			pt, err := DecryptRefundReqInfo(v.APIKey, v.ReqInfo)
			if err != nil || string(pt) != v.Plaintext {
				t.Fatalf("DecryptRefundReqInfo = %q, %v; want %q", pt, err, v.Plaintext)
			}
			if enc, err := EncryptRefundReqInfo(v.APIKey, []byte(v.Plaintext)); err != nil || enc != v.ReqInfo {
				t.Errorf("EncryptRefundReqInfo = %s, %v; want %s", enc, err, v.ReqInfo)
			}
			if out, err := DecryptRefundReqInfo(v.APIKey+"x", v.ReqInfo); err == nil && string(out) == v.Plaintext {
				t.Error("DecryptRefundReqInfo with another key gives the plaintext")
			}
			info, err := decodeFlat(pt, "root")
			if err != nil {
				t.Fatalf("plaintext: %v", err)
			}
			for k, want := range v.ExpectFields {
				if info[k] != want {
					t.Errorf("plaintext %s = %q, want %q", k, info[k], want)
				}
			}
			body := v.NotifyXML
			if body == nil {
				b := string(wireRender(map[string]string{"return_code": "SUCCESS", "appid": testAppID, "mch_id": testMchID, "nonce_str": testNonce, "req_info": v.ReqInfo}))
				body = &b
			}
			n, err := ParseRefundNotify([]byte(*body), v.APIKey)
			if err != nil {
				t.Fatalf("ParseRefundNotify: %v", err)
			}
			if diff := cmp.Diff(info, n.Info); diff != "" {
				t.Errorf("RefundNotify.Info (-plaintext +got):\n%s", diff)
			}
			checkRefundNotifyTyped(t, n, info)
			if v.AppID != nil && n.AppID != *v.AppID || v.MchID != nil && n.MchID != *v.MchID {
				t.Errorf("RefundNotify appid, mch_id = %s, %s; want %v, %v", n.AppID, n.MchID, *v.AppID, *v.MchID)
			}
			if _, err := ParseRefundNotify([]byte(*body), v.APIKey+"x"); !errors.Is(err, ErrInvalidReqInfo) {
				t.Errorf("ParseRefundNotify with another key = %v, want ErrInvalidReqInfo", err)
			}
		})
	}
}

// checkRefundNotifyTyped compares a RefundNotify's typed fields with the
// decrypted fields, converted by the test.
func checkRefundNotifyTyped(t *testing.T, n *RefundNotify, info map[string]string) {
	t.Helper()
	fen := func(k string) int64 {
		if info[k] == "" {
			return 0
		}
		v, err := strconv.ParseInt(info[k], 10, 64)
		if err != nil {
			t.Fatalf("%s = %q: %v", k, info[k], err)
		}
		return v
	}
	got := map[string]any{
		"transaction_id": n.TransactionID, "out_trade_no": n.OutTradeNo, "refund_id": n.RefundID,
		"out_refund_no": n.OutRefundNo, "total_fee": n.TotalFee, "settlement_total_fee": n.SettlementTotalFee,
		"refund_fee": n.RefundFee, "settlement_refund_fee": n.SettlementRefundFee, "refund_status": string(n.RefundStatus),
		"refund_recv_accout": n.RecvAccount, "refund_account": n.RefundAccount, "refund_request_source": n.RefundRequestSource,
		"success_time": n.SuccessTime.Format("2006-01-02 15:04:05"),
	}
	want := map[string]any{
		"transaction_id": info["transaction_id"], "out_trade_no": info["out_trade_no"], "refund_id": info["refund_id"],
		"out_refund_no": info["out_refund_no"], "total_fee": fen("total_fee"), "settlement_total_fee": fen("settlement_total_fee"),
		"refund_fee": fen("refund_fee"), "settlement_refund_fee": fen("settlement_refund_fee"), "refund_status": info["refund_status"],
		"refund_recv_accout": info["refund_recv_accout"], "refund_account": info["refund_account"], "refund_request_source": info["refund_request_source"],
		"success_time": info["success_time"],
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RefundNotify typed fields (-plaintext +got):\n%s", diff)
	}
	if _, off := n.SuccessTime.Zone(); off != 8*3600 {
		t.Errorf("SuccessTime zone offset %d, want +8h", off)
	}
}

// v2Sample is a pay/v2/<name>.xml with its sidecar.
type v2Sample struct {
	Name   string
	XML    []byte
	ID     string            `json:"id"`
	Fields map[string]string `json:"fields"`
	Expect map[string]string `json:"expect"`
	Status string            `json:"status"`
}

func loadV2Samples(t testing.TB) []v2Sample {
	t.Helper()
	var out []v2Sample
	for _, js := range corpus.Glob(t, "pay/v2/*.json") {
		var s v2Sample
		b, err := os.ReadFile(js)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		s.Name = strings.TrimSuffix(filepath.Base(js), ".json")
		if s.XML, err = os.ReadFile(strings.TrimSuffix(js, ".json") + ".xml"); err != nil {
			t.Fatalf("sample %s: %v", s.Name, err)
		}
		out = append(out, s)
	}
	return out
}

// TestCorpusV2Samples consumes every pay/v2 sample: DecodeXML gives the
// sidecar's fields exactly; the values the source asserts are read back
// through the typed API the sample belongs to. The samples' own signs
// were made with merchant keys nobody published, so each is checked to
// fail verification under a known key and re-signed with the test key
// before it goes through the verifying code.
func TestCorpusV2Samples(t *testing.T) {
	t.Parallel()
	checks := map[string]func(t *testing.T, s v2Sample, m map[string]string){
		"notify_pay_result":     checkSamplePayNotify,
		"notify_native_prepay":  checkSampleNativeNotify,
		"notify_refund":         checkSampleRefundNotify,
		"orderquery_response":   checkSampleOrderQuery,
		"refund_response":       checkSampleRefund,
		"unifiedorder_response": checkSampleUnifiedOrder,
		"notify_reply_success":  checkSampleReply(true),
		"notify_reply_fail":     checkSampleReply(false),
	}
	seen := map[string]bool{}
	for _, s := range loadV2Samples(t) {
		seen[s.ID] = true
		t.Run(s.ID+"["+s.Status+"]", func(t *testing.T) {
			t.Parallel()
			m, err := DecodeXML(s.XML)
			if err != nil {
				t.Fatalf("DecodeXML: %v", err)
			}
			if diff := cmp.Diff(s.Fields, m); diff != "" {
				t.Errorf("DecodeXML (-sidecar fields +got):\n%s", diff)
			}
			for k, want := range s.Expect {
				if m[k] != want {
					t.Errorf("field %s = %q, want %q", k, m[k], want)
				}
			}
			check, ok := checks[s.ID]
			if !ok {
				t.Fatalf("no check for sample %s: add one", s.ID)
			}
			check(t, s, m)
		})
	}
	for id := range checks {
		if !seen[id] {
			t.Errorf("sample %s is missing from the corpus", id)
		}
	}
}

// resign returns m signed with the test key (the sample's sign replaced).
func resign(m map[string]string, signType SignType) map[string]string {
	return signed(without(m, "sign"), testKey, signType)
}

// sampleFee parses an amount of a sample, failing the test if it is not one.
func sampleFee(t *testing.T, m map[string]string, k string) int64 {
	t.Helper()
	if m[k] == "" {
		return 0
	}
	v, err := strconv.ParseInt(m[k], 10, 64)
	if err != nil {
		t.Fatalf("sample %s = %q: %v", k, m[k], err)
	}
	return v
}

func checkSamplePayNotify(t *testing.T, s v2Sample, m map[string]string) {
	if _, err := ParseNotify(s.XML, testKey, SignTypeMD5); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("ParseNotify(sample, a key that did not sign it) = %v, want ErrInvalidSignature", err)
	}
	for _, st := range []SignType{SignTypeMD5, SignTypeHMACSHA256} {
		fields := resign(m, st)
		if st == SignTypeHMACSHA256 {
			fields = resign(with(m, "sign_type", string(st)), st)
		}
		body := wireRender(fields)
		n, err := ParseNotify(body, testKey, st)
		if err != nil {
			t.Fatalf("ParseNotify(%s re-signed sample) = %v", st, err)
		}
		want := &Notify{
			Payment: Payment{
				AppID: m["appid"], MchID: m["mch_id"], OpenID: m["openid"], IsSubscribe: m["is_subscribe"],
				TradeType: TradeType(m["trade_type"]), BankType: m["bank_type"], TotalFee: sampleFee(t, m, "total_fee"),
				FeeType: m["fee_type"], CouponCount: int(sampleFee(t, m, "coupon_count")),
				Coupons: []Coupon{
					{ID: s.Expect["coupon_id_0"], Type: CouponType(s.Expect["coupon_type_0"]), Fee: sampleFee(t, s.Expect, "coupon_fee_0")},
					{ID: s.Expect["coupon_id_1"], Type: CouponType(s.Expect["coupon_type_1"]), Fee: sampleFee(t, s.Expect, "coupon_fee_1")},
				},
				TransactionID: m["transaction_id"], OutTradeNo: m["out_trade_no"], Attach: m["attach"],
				TimeEnd: mustChinaTime(t, "20060102150405", m["time_end"]),
			},
			ResultCode: m["result_code"], NonceStr: m["nonce_str"], SignType: SignType(fields["sign_type"]),
			Raw: fields,
		}
		if diff := cmp.Diff(want, n); diff != "" {
			t.Errorf("ParseNotify(%s re-signed sample) (-want +got):\n%s", st, diff)
		}
		// Every field is covered: changing, adding or removing any one
		// (the coupon fields and sub_mch_id, which the type does not model,
		// included) is refused.
		for k := range fields {
			if k == "sign" {
				continue
			}
			for name, tampered := range map[string]map[string]string{
				"changed": with(fields, k, fields[k]+"0"),
				"removed": without(fields, k),
			} {
				if _, err := ParseNotify(wireRender(tampered), testKey, st); err == nil {
					t.Errorf("ParseNotify(%s %s) accepted", k, name)
				}
			}
		}
		if _, err := ParseNotify(wireRender(with(fields, "coupon_fee_2", "1")), testKey, st); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("ParseNotify(a coupon added after signing) = %v, want ErrInvalidSignature", err)
		}
	}
}

func with(m map[string]string, k, v string) map[string]string {
	c := maps.Clone(m)
	c[k] = v
	return c
}

func checkSampleNativeNotify(t *testing.T, s v2Sample, m map[string]string) {
	// The native mode-1 callback (product QR scanned) is signed like every
	// v2 message; this package has no typed parser for it.
	if err := CheckSign(m, testKey, SignTypeMD5); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("CheckSign(sample, a key that did not sign it) = %v, want ErrInvalidSignature", err)
	}
	fields := resign(m, SignTypeMD5)
	if err := CheckSign(fields, testKey, SignTypeMD5); err != nil {
		t.Errorf("CheckSign(re-signed sample) = %v", err)
	}
	if err := CheckSign(with(fields, "product_id", "88889"), testKey, SignTypeMD5); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("CheckSign(product_id changed) = %v, want ErrInvalidSignature", err)
	}
	// It has no return_code, so it is not a pay notify.
	if _, err := ParseNotify(wireRender(fields), testKey, SignTypeMD5); !errors.As(err, new(*ReturnError)) {
		t.Errorf("ParseNotify(native callback) = %v, want a *ReturnError (no return_code)", err)
	}
}

func checkSampleRefundNotify(t *testing.T, s v2Sample, m map[string]string) {
	var key string
	var info map[string]string
	for _, v := range loadVectors[reqInfoVector](t, "pay", "v2_refund_req_info.json") {
		if v.ReqInfo == m["req_info"] {
			key = v.APIKey
			pt, err := DecryptRefundReqInfo(v.APIKey, v.ReqInfo)
			if err != nil {
				t.Fatal(err)
			}
			if info, err = decodeFlat(pt, "root"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if key == "" {
		t.Fatal("no v2_refund_req_info vector has this sample's req_info")
	}
	n, err := ParseRefundNotify(s.XML, key)
	if err != nil {
		t.Fatalf("ParseRefundNotify: %v", err)
	}
	if n.AppID != s.Expect["appid"] || n.MchID != s.Expect["mch_id"] {
		t.Errorf("appid, mch_id = %s, %s; want %s, %s", n.AppID, n.MchID, s.Expect["appid"], s.Expect["mch_id"])
	}
	if diff := cmp.Diff(m, n.Raw); diff != "" {
		t.Errorf("Raw (-sample +got):\n%s", diff)
	}
	checkRefundNotifyTyped(t, n, info)
	c, err := NewClient(s.Expect["appid"], s.Expect["mch_id"], key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ParseRefundNotify(s.XML); err != nil {
		t.Errorf("Client.ParseRefundNotify = %v", err)
	}
	other, err := NewClient(testAppID, s.Expect["mch_id"], key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.ParseRefundNotify(s.XML); !errors.Is(err, ErrMismatch) {
		t.Errorf("Client.ParseRefundNotify for another appid = %v, want ErrMismatch", err)
	}
}

// sampleClient returns a client for the sample's appid and mch_id with the
// test key.
func sampleClient(t *testing.T, m map[string]string) *Client {
	t.Helper()
	c, err := NewClient(m["appid"], m["mch_id"], testKey)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sampleReply runs a reply sample through the client's reply checks: as
// published (its sign cannot verify: outcome unknown) and re-signed.
func sampleReply(t *testing.T, path string, s v2Sample, m map[string]string) map[string]string {
	t.Helper()
	c := sampleClient(t, m)
	if _, err := c.decodeReply(path, s.XML); !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("decodeReply(sample as published) = %v, want ErrOutcomeUnknown wrapping ErrInvalidSignature", err)
	}
	got, err := c.decodeReply(path, wireRender(resign(m, SignTypeMD5)))
	if err != nil {
		t.Fatalf("decodeReply(re-signed sample) = %v", err)
	}
	return got
}

func checkSampleOrderQuery(t *testing.T, s v2Sample, m map[string]string) {
	const path = "pay/orderquery"
	o, err := decodeOrder(path, sampleReply(t, path, s, m))
	if err != nil {
		t.Fatal(err)
	}
	if o.TradeState != TradeState(s.Expect["trade_state"]) || o.TradeState != TradeStateSuccess ||
		o.Attach != s.Expect["attach"] || o.TransactionID != s.Expect["transaction_id"] {
		t.Errorf("Order = %+v; want the sidecar's expect %v", o, s.Expect)
	}
	want := Payment{
		AppID: m["appid"], MchID: m["mch_id"], DeviceInfo: m["device_info"], OpenID: m["openid"], IsSubscribe: m["is_subscribe"],
		TradeType: TradeTypeMicropay, BankType: m["bank_type"], TotalFee: sampleFee(t, m, "total_fee"), FeeType: m["fee_type"],
		TransactionID: m["transaction_id"], OutTradeNo: m["out_trade_no"], Attach: m["attach"],
		TimeEnd: mustChinaTime(t, "20060102150405", m["time_end"]),
	}
	if diff := cmp.Diff(want, o.Payment); diff != "" {
		t.Errorf("Order.Payment (-want +got):\n%s", diff)
	}
}

func checkSampleRefund(t *testing.T, s v2Sample, m map[string]string) {
	const path = "secapi/pay/refund"
	r, err := decodeRefund(path, sampleReply(t, path, s, m))
	if err != nil {
		t.Fatal(err)
	}
	// The sample has the older "_0" field names.
	if r.RefundID != s.Expect["refund_id_0"] || r.RefundFee != sampleFee(t, s.Expect, "refund_fee_0") ||
		r.OutRefundNo != m["out_refund_no_0"] || r.OutTradeNo != m["out_trade_no"] || r.TransactionID != m["transaction_id"] {
		t.Errorf("Refund = %+v; want the sidecar's refund_id_0, refund_fee_0, out_refund_no_0", r)
	}
}

func checkSampleUnifiedOrder(t *testing.T, s v2Sample, m map[string]string) {
	const path = "pay/unifiedorder"
	p, err := decodePrepay(path, sampleReply(t, path, s, m))
	if err != nil {
		t.Fatal(err)
	}
	if p.PrepayID != s.Expect["prepay_id"] || p.TradeType != TradeType(s.Expect["trade_type"]) || p.NonceStr != s.Expect["nonce_str"] {
		t.Errorf("Prepay = %+v; want the sidecar's prepay_id, trade_type, nonce_str", p)
	}
}

func checkSampleReply(success bool) func(t *testing.T, s v2Sample, m map[string]string) {
	return func(t *testing.T, s v2Sample, m map[string]string) {
		got := NotifyReply(success, m["return_msg"])
		if want := strings.TrimSpace(string(s.XML)); string(got) != want {
			t.Errorf("NotifyReply(%v, %q) = %s, want %s", success, m["return_msg"], got, want)
		}
		if (m["return_code"] == "SUCCESS") != success {
			t.Errorf("sample return_code %s for NotifyReply(%v)", m["return_code"], success)
		}
	}
}
