package mp

import (
	"errors"
	"strings"
	"testing"

	"github.com/wxkit/wxkit"
)

func TestOpenAPIQuotaAndClear(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	api := env.c.OpenAPI()
	for range 2 {
		if _, err := env.c.User().Get(ctx, env.users[0], nil); err != nil {
			t.Fatal(err)
		}
	}
	q, err := api.GetQuota(ctx, "/cgi-bin/user/info")
	if err != nil {
		t.Fatalf("OpenAPI.GetQuota = %v", err)
	}
	if *q != (Quota{DailyLimit: 5000000, Used: 2, Remain: 4999998}) {
		t.Errorf("OpenAPI.GetQuota(user/info) = %+v, want 5000000/2/4999998", *q)
	}
	_, err = api.GetQuota(ctx, "/cgi-bin/no/such/api")
	wantCode(t, "OpenAPI.GetQuota(unknown)", err, 76021)

	if err := api.ClearQuota(ctx); err != nil {
		t.Fatalf("OpenAPI.ClearQuota = %v", err)
	}
	if q, err := api.GetQuota(ctx, "/cgi-bin/user/info"); err != nil || q.Used != 0 {
		t.Errorf("after ClearQuota: GetQuota = %+v, %v, want used 0", q, err)
	}
	for range 9 {
		if err := api.ClearQuota(ctx); err != nil {
			t.Fatalf("OpenAPI.ClearQuota = %v", err)
		}
	}
	wantCode(t, "OpenAPI.ClearQuota (11th this month)", api.ClearQuota(ctx), 48006)
	err = api.ClearQuotaByAppSecret(ctx, emuSecret)
	wantCode(t, "OpenAPI.ClearQuotaByAppSecret (11th this month)", err, 48006)
}

func TestOpenAPIClearQuotaByAppSecret(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	api := env.c.OpenAPI()
	if _, err := env.c.User().Get(ctx, env.users[0], nil); err != nil {
		t.Fatal(err)
	}
	err := api.ClearQuotaByAppSecret(ctx, "wrong-secret-value")
	wantCode(t, "OpenAPI.ClearQuotaByAppSecret(wrong secret)", err, 40125)
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("error %q carries the secret", err)
	}
	if q, err := api.GetQuota(ctx, "/cgi-bin/user/info"); err != nil || q.Used != 1 {
		t.Fatalf("GetQuota = %+v, %v, want used 1", q, err)
	}
	if err := api.ClearQuotaByAppSecret(ctx, emuSecret); err != nil {
		t.Fatalf("OpenAPI.ClearQuotaByAppSecret = %v", err)
	}
	if q, err := api.GetQuota(ctx, "/cgi-bin/user/info"); err != nil || q.Used != 0 {
		t.Errorf("after ClearQuotaByAppSecret: GetQuota = %+v, %v, want used 0", q, err)
	}
}

func TestOpenAPIRIDAndIPs(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	api := env.c.OpenAPI()
	err := env.c.CustomerService().SendText(ctx, env.stranger, "hi")
	var ae *wxkit.APIError
	if !errors.As(err, &ae) || ae.RID == "" {
		t.Fatalf("SendText(stranger) = %v, want an APIError with a rid", err)
	}
	info, err := api.GetRID(ctx, ae.RID)
	if err != nil {
		t.Fatalf("OpenAPI.GetRID = %v", err)
	}
	if info.InvokeTime != emuT0.Unix() || !strings.Contains(info.RequestBody, env.stranger) ||
		!strings.Contains(info.ResponseBody, `"errcode":40003`) || info.ClientIP == "" {
		t.Errorf("OpenAPI.GetRID = %+v", info)
	}
	_, err = api.GetRID(ctx, "00000000-00000000-00000000")
	wantCode(t, "OpenAPI.GetRID(unknown)", err, 76001)
	_, err = api.GetRID(ctx, "")
	wantCode(t, "OpenAPI.GetRID(empty)", err, 76002)

	for name, get := range map[string]func() ([]string, error){
		"GetCallbackIP":  func() ([]string, error) { return api.GetCallbackIP(ctx) },
		"GetAPIDomainIP": func() ([]string, error) { return api.GetAPIDomainIP(ctx) },
	} {
		ips, err := get()
		if err != nil || len(ips) == 0 {
			t.Errorf("OpenAPI.%s = %v, %v", name, ips, err)
		}
	}
}
