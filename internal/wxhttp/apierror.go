package wxhttp

import (
	"errors"

	"github.com/wxkit/wxkit"
)

// reportAPIError tells OnAPIError about err when it is a WeChat errcode.
func (c *Client) reportAPIError(err error) {
	if c.OnAPIError == nil {
		return
	}
	if ae, ok := errors.AsType[*wxkit.APIError](err); ok && ae.ErrCode != 0 {
		c.OnAPIError(ae.ErrCode)
	}
}
