package miniprogram

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/internal/corpus"
)

// TestPhoneNumberCorpus serves the corpus reply of
// wxa/business/getuserphonenumber and checks the request and the decoded
// phone_info against the file's fields.
func TestPhoneNumberCorpus(t *testing.T) {
	t.Parallel()
	const file = "wxa_business_getuserphonenumber.json"
	body := corpus.ReadFile(t, "api", file)
	var fields struct {
		PhoneInfo map[string]any `json:"phone_info"`
	}
	corpus.DecodeJSON(t, &fields, "api", file)
	want := fields.PhoneInfo
	if cc, ok := want["countryCode"].(float64); ok { // decoded as a string whatever its JSON type
		want["countryCode"] = fmt.Sprint(cc)
	}

	c, mux, p := setup(t)
	mux.HandleFunc("POST /wxa/business/getuserphonenumber", func(w http.ResponseWriter, r *http.Request) {
		testQuery(t, r, map[string]string{"access_token": "tok-1"})
		testJSONBody(t, r, `{"code":"e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144"}`)
		w.Write(body)
	})
	got, err := c.PhoneNumber(t.Context(), "e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144")
	if err != nil {
		t.Fatalf("PhoneNumber = %v", err)
	}
	if diff := cmp.Diff(want, toMap(t, got)); diff != "" {
		t.Errorf("PhoneNumber (-want +got):\n%s", diff)
	}
	if n := p.count("/wxa/business/getuserphonenumber"); n != 1 {
		t.Errorf("calls = %d, want 1", n)
	}
}

func TestPhoneNumberErrors(t *testing.T) {
	t.Parallel()
	info := func(appID string) string {
		return `{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"+1 2025550123","purePhoneNumber":"2025550123","countryCode":"1","watermark":{"timestamp":1637744274,"appid":"` + appID + `"}}}`
	}
	tests := []struct {
		name    string
		replies []string
		ok      bool  // the call succeeds
		want    error // with !ok: the error it matches (nil: any error)
		calls   int32
	}{
		{"invalid code", []string{`{"errcode":40029,"errmsg":"invalid code"}`}, false, wxkit.ErrInvalidCode, 1},
		{"system error not retried", []string{`{"errcode":-1,"errmsg":"system error"}`, info(testAppID)}, false, wxkit.ErrSystemBusy, 1},
		{"minute quota retried", []string{`{"errcode":45011,"errmsg":"api minute-quota reach limit"}`, info(testAppID)}, true, nil, 2},
		{"foreign watermark", []string{info("wx0000000000000000")}, false, ErrWatermarkAppID, 1},
		{"no phone_info", []string{`{"errcode":0,"errmsg":"ok"}`}, false, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, p := setup(t)
			mux.HandleFunc("POST /wxa/business/getuserphonenumber", func(w http.ResponseWriter, r *http.Request) {
				n := int(p.count("/wxa/business/getuserphonenumber")) - 1
				fmt.Fprint(w, tt.replies[min(n, len(tt.replies)-1)])
			})
			got, err := c.PhoneNumber(t.Context(), "code")
			switch {
			case tt.ok:
				if err != nil || got.PurePhoneNumber != "2025550123" || got.CountryCode != "1" {
					t.Errorf("PhoneNumber = %+v, %v; want 2025550123 after a retry", got, err)
				}
			case err == nil:
				t.Errorf("PhoneNumber = %+v, want an error", got)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("PhoneNumber = %v, want %v", err, tt.want)
			}
			if n := p.count("/wxa/business/getuserphonenumber"); n != tt.calls {
				t.Errorf("calls = %d, want %d", n, tt.calls)
			}
		})
	}
	c, _, p := setup(t)
	if _, err := c.PhoneNumber(t.Context(), ""); !errors.Is(err, ErrInvalidRequest) || p.count("/wxa/business/getuserphonenumber") != 0 {
		t.Errorf("PhoneNumber(\"\") = %v (sent: %d), want ErrInvalidRequest before sending", err, p.count("/wxa/business/getuserphonenumber"))
	}
}
