package mp

import (
	"context"
	"net/url"

	"github.com/wxkit/wxkit/internal/wxhttp"
)

// OpenAPIService handles the platform's own endpoints (openApi管理 and
// the server IP lists): the daily quota of each API, clearing it, the
// request behind an error's rid, and the IPs of WeChat's servers.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/openApi/get_api_quota.html
type OpenAPIService service

// OpenAPI returns the service for the quota, rid and server-IP endpoints.
func (c *Client) OpenAPI() *OpenAPIService { return (*OpenAPIService)(&c.common) }

// ipList is the answer of getcallbackip and get_api_domain_ip.
type ipList struct {
	IPList []string `json:"ip_list"`
}

// GetCallbackIP returns the IP addresses WeChat pushes messages from
// ({"ip_list":["106.55.206.146",...]}), for a server that accepts pushes
// only from them.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_the_WeChat_server_IP_address.html
func (s *OpenAPIService) GetCallbackIP(ctx context.Context) ([]string, error) {
	return s.ipList(ctx, "cgi-bin/getcallbackip")
}

// GetAPIDomainIP returns the IP addresses of the API host
// (api.weixin.qq.com), for outbound firewalls.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_the_WeChat_server_IP_address.html
func (s *OpenAPIService) GetAPIDomainIP(ctx context.Context) ([]string, error) {
	return s.ipList(ctx, "cgi-bin/get_api_domain_ip")
}

func (s *OpenAPIService) ipList(ctx context.Context, path string) ([]string, error) {
	req, err := s.client.NewRequest(ctx, "GET", path, nil)
	if err != nil {
		return nil, err
	}
	var v ipList
	if err := s.client.Do(req, &v, Idempotent()); err != nil {
		return nil, err
	}
	return v.IPList, nil
}

// Quota is the daily quota of one API on the current day (China time):
// the limit, the calls made and the calls left.
type Quota struct {
	DailyLimit int `json:"daily_limit"`
	Used       int `json:"used"`
	Remain     int `json:"remain"`
}

// GetQuota returns today's quota of the API at cgiPath
// ("/cgi-bin/message/custom/send"). Errors: 76021 (no such API), 76022
// (the API has no quota, or the account may not use it). The call itself
// is limited (200 a day on the platform).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/openApi/get_api_quota.html
func (s *OpenAPIService) GetQuota(ctx context.Context, cgiPath string) (*Quota, error) {
	body := struct {
		CGIPath string `json:"cgi_path"`
	}{cgiPath}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/openapi/quota/get", &body)
	if err != nil {
		return nil, err
	}
	var v struct {
		Quota Quota `json:"quota"`
	}
	if err := s.client.Do(req, &v, Idempotent()); err != nil {
		return nil, err
	}
	return &v.Quota, nil
}

// ClearQuota sets the daily counters of every API of the account back to
// zero. It may be called 10 times a month; then 48006 (forbid to clear
// quota because of reaching the limit).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/openApi/clear_quota.html
func (s *OpenAPIService) ClearQuota(ctx context.Context) error {
	body := struct {
		AppID string `json:"appid"`
	}{s.client.appID}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/clear_quota", &body)
	if err != nil {
		return err
	}
	return s.client.Do(req, nil)
}

// ClearQuotaByAppSecret is ClearQuota authenticated with the AppSecret
// instead of an access_token, for when the token quota itself is spent
// (POST cgi-bin/clear_quota/v2?appid=&appsecret=). It shares the 10 clears
// a month with ClearQuota (48006). Errors: 41002, 41004 (appsecret
// missing), 40013, 40125 (wrong AppSecret). No error carries appSecret.
//
// WeChat docs: https://developers.weixin.qq.com/doc/service/en/api/apimanage/api_clearquotabyappsecret.html
func (s *OpenAPIService) ClearQuotaByAppSecret(ctx context.Context, appSecret string) error {
	q := url.Values{"appid": {s.client.appID}, "appsecret": {appSecret}}
	req, err := s.client.api.NewRequest(ctx, "POST", "cgi-bin/clear_quota/v2?"+q.Encode(), nil)
	if err != nil {
		return wxhttp.Scrub(err, appSecret)
	}
	return wxhttp.Scrub(s.client.api.Do(req, nil, wxhttp.NoToken()), appSecret)
}

// RIDRequest is the request behind a rid, as rid/get reports it.
// InvokeTime is in Unix seconds; RequestURL is the query string of the
// call; the bodies are as sent and answered.
type RIDRequest struct {
	InvokeTime   int64  `json:"invoke_time"`
	CostInMS     int64  `json:"cost_in_ms"`
	RequestURL   string `json:"request_url"`
	RequestBody  string `json:"request_body"`
	ResponseBody string `json:"response_body"`
	ClientIP     string `json:"client_ip"`
}

// GetRID returns the request behind rid, the "rid: xxxxxxxx-xxxxxxxx-xxxxxxxx"
// suffix of a failed call's errmsg (wxkit.APIError.RID). Errors: 76001
// (rid not found), 76002 (not a rid), 76003 (a rid of another account),
// 76004 (expired: rids can be queried for 7 days).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/openApi/get_rid_info.html
func (s *OpenAPIService) GetRID(ctx context.Context, rid string) (*RIDRequest, error) {
	body := struct {
		RID string `json:"rid"`
	}{rid}
	req, err := s.client.NewRequest(ctx, "POST", "cgi-bin/openapi/rid/get", &body)
	if err != nil {
		return nil, err
	}
	var v struct {
		Request RIDRequest `json:"request"`
	}
	if err := s.client.Do(req, &v, Idempotent()); err != nil {
		return nil, err
	}
	return &v.Request, nil
}
