package miniprogram

import (
	"context"
	"fmt"
)

// PhoneNumber exchanges the code of the Mini Program's getPhoneNumber button
// for the user's phone number (POST wxa/business/getuserphonenumber
// {"code"}). The code lives 5 minutes and is single use, so the call is not
// retried on -1.
//
// The reply's watermark appid must be this Mini Program's (ErrWatermarkAppID
// otherwise); a watermark without an appid is accepted, as in WeChat's
// published sample. Errors are otherwise *wxkit.APIError:
// wxkit.ErrInvalidCode (40029), wxkit.ErrSystemBusy (-1). An empty code is
// ErrInvalidRequest.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-info/phone-number/getPhoneNumber.html
func (c *Client) PhoneNumber(ctx context.Context, code string) (*PhoneInfo, error) {
	const path = "wxa/business/getuserphonenumber"
	if code == "" {
		return nil, fmt.Errorf("%w: PhoneNumber: empty code", ErrInvalidRequest)
	}
	req, err := c.api.NewRequest(ctx, "POST", path, struct {
		Code string `json:"code"`
	}{code})
	if err != nil {
		return nil, err
	}
	var reply struct {
		PhoneInfo *PhoneInfo `json:"phone_info"`
	}
	if err := c.api.Do(req, &reply); err != nil {
		return nil, err
	}
	p := reply.PhoneInfo
	if p == nil || p.PurePhoneNumber == "" {
		return nil, fmt.Errorf("wxkit: POST %s: reply without phone_info", path)
	}
	if p.Watermark.AppID != "" && p.Watermark.AppID != c.appID {
		return nil, fmt.Errorf("wxkit: POST %s: %w: %q", path, ErrWatermarkAppID, p.Watermark.AppID)
	}
	return p, nil
}
