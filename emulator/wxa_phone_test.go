package emulator

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/internal/corpus"
)

// jsonShape replaces every value of a decoded JSON document by its type,
// so that two documents can be compared by shape.
func jsonShape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, v := range x {
			out[k] = jsonShape(v)
		}
		return out
	case []any:
		if len(x) == 0 {
			return []any{}
		}
		return []any{jsonShape(x[0])}
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return "?"
}

// sameShape fails unless got has the shape of the corpus file api/name.
func sameShape(t *testing.T, name string, got []byte) {
	t.Helper()
	var want, g any
	if err := json.Unmarshal(corpus.ReadFile(t, "api", name), &want); err != nil {
		t.Fatalf("corpus api/%s: %v", name, err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("answer is not JSON: %q", got)
	}
	if diff := cmp.Diff(jsonShape(want), jsonShape(g)); diff != "" {
		t.Errorf("shape differs from corpus api/%s (-corpus +emulator):\n%s", name, diff)
	}
}

// phoneCode simulates a getPhoneNumber tap through the control API.
func phoneCode(t *testing.T, e *Emulator, appID, openID string) string {
	t.Helper()
	var out struct {
		Code string `json:"code"`
	}
	if st := serveJSON(t, e, "POST", "/_emulator/apps/"+appID+"/getPhoneNumber", `{"openid":"`+openID+`"}`, &out); st != 200 || out.Code == "" {
		t.Fatalf("getPhoneNumber: %d", st)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(out.Code) {
		t.Errorf("code %q is not 64 hex characters like the platform's", out.Code)
	}
	return out.Code
}

type phoneReply struct {
	ErrCode   int    `json:"errcode"`
	ErrMsg    string `json:"errmsg"`
	PhoneInfo struct {
		PhoneNumber     string `json:"phoneNumber"`
		PurePhoneNumber string `json:"purePhoneNumber"`
		CountryCode     int    `json:"countryCode"`
		Watermark       struct {
			Timestamp int64  `json:"timestamp"`
			AppID     string `json:"appid"`
		} `json:"watermark"`
	} `json:"phone_info"`
}

func TestGetUserPhoneNumber(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	tok := appToken(t, e, mpAppID, mpSecret)
	target := "/wxa/business/getuserphonenumber?access_token=" + tok
	cn, us, derived := mpUser(t, e, mpAppID, 0), mpUser(t, e, mpAppID, 1), mpUser(t, e, mpAppID, 2)

	code := phoneCode(t, e, mpAppID, cn)
	advance(t, e, time.Minute) // the watermark is the time of the tap
	st, body := serveRaw(t, e, "POST", target, `{"code":"`+code+`"}`)
	if st != 200 {
		t.Fatalf("status %d", st)
	}
	sameShape(t, "wxa_business_getuserphonenumber.json", body)
	var r phoneReply
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	var want phoneReply
	want.ErrMsg = "ok"
	want.PhoneInfo.PhoneNumber, want.PhoneInfo.PurePhoneNumber, want.PhoneInfo.CountryCode = "13800138000", "13800138000", 86
	want.PhoneInfo.Watermark.Timestamp, want.PhoneInfo.Watermark.AppID = t0.Unix(), mpAppID
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("getuserphonenumber (-want +got):\n%s", diff)
	}

	serveJSON(t, e, "POST", target, `{"code":"`+phoneCode(t, e, mpAppID, us)+`"}`, &r)
	if p := r.PhoneInfo; p.PhoneNumber != "+16505550100" || p.PurePhoneNumber != "6505550100" || p.CountryCode != 1 {
		t.Errorf("foreign number = %+v", p)
	}
	serveJSON(t, e, "POST", target, `{"code":"`+phoneCode(t, e, mpAppID, derived)+`"}`, &r)
	first := r.PhoneInfo.PurePhoneNumber
	if !regexp.MustCompile(`^1[0-9]{10}$`).MatchString(first) || r.PhoneInfo.CountryCode != 86 {
		t.Errorf("derived number = %+v, want a mainland number", r.PhoneInfo)
	}
	serveJSON(t, e, "POST", target, `{"code":"`+phoneCode(t, e, mpAppID, derived)+`"}`, &r)
	if r.PhoneInfo.PurePhoneNumber != first {
		t.Errorf("derived number changed from %s to %s", first, r.PhoneInfo.PurePhoneNumber)
	}
}

func TestGetUserPhoneNumberErrors(t *testing.T) {
	t.Parallel()
	e := newWXATest(t, nil)
	tok := appToken(t, e, mpAppID, mpSecret)
	user := mpUser(t, e, mpAppID, 0)
	used := phoneCode(t, e, mpAppID, user)
	if r := call(t, e, "POST", "/wxa/business/getuserphonenumber?access_token="+tok, `{"code":"`+used+`"}`); r.ErrCode != 0 {
		t.Fatalf("first use: %d", r.ErrCode)
	}
	expired := phoneCode(t, e, mpAppID, user)
	advance(t, e, WXPhoneCodeLifetime)
	foreign := phoneCode(t, e, mp2AppID, mpUser(t, e, mp2AppID, 0))
	fresh := phoneCode(t, e, mpAppID, user)
	tests := []struct {
		name, tok, body string
		want            int
	}{
		{"used code", tok, `{"code":"` + used + `"}`, 40029},
		{"expired code", tok, `{"code":"` + expired + `"}`, 40029},
		{"code of another Mini Program", tok, `{"code":"` + foreign + `"}`, 40029},
		{"unknown code", tok, `{"code":"abc"}`, 40029},
		{"code missing", tok, `{}`, 41008},
		{"not JSON", tok, `code=abc`, 47001},
		{"empty body", tok, ``, 44002},
		{"token missing", "", `{"code":"` + fresh + `"}`, 41001},
		{"official account token", appToken(t, e, testAppID, testSecret), `{"code":"` + fresh + `"}`, 48001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.name, call(t, e, "POST", "/wxa/business/getuserphonenumber?access_token="+tt.tok, tt.body), tt.want)
		})
	}
	if r := call(t, e, "POST", "/wxa/business/getuserphonenumber?access_token="+tok, `{"code":"`+fresh+`"}`); r.ErrCode != 0 {
		t.Errorf("the fresh code after refused calls: %d", r.ErrCode)
	}
}
