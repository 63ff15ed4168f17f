package miniprogram

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/wxkit/wxkit"
)

func TestSendSubscribeMessage(t *testing.T) {
	t.Parallel()
	msg := &SubscribeMessage{
		ToUser:     "oGZUI0egBJY1zhBYw2KhdUfwVJJE",
		TemplateID: "TEMPLATE_ID",
		Page:       "index?foo=bar",
		Data: map[string]SubscribeValue{
			"number01": {Value: "339208499"},
			"thing01":  {Value: "广州天河 <b>&"},
		},
		MiniProgramState: MiniProgramStateTrial,
		Lang:             LangZhCN,
	}
	const wantBody = `{"touser":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","template_id":"TEMPLATE_ID","page":"index?foo=bar",
		"data":{"number01":{"value":"339208499"},"thing01":{"value":"广州天河 <b>&"}},"miniprogram_state":"trial","lang":"zh_CN"}`
	tests := []struct {
		name    string
		opts    []CallOption
		replies []string
		want    error // nil: success
		calls   int32
	}{
		{"sent", nil, []string{`{"errcode":0,"errmsg":"ok"}`}, nil, 1},
		{"user refused", nil, []string{`{"errcode":43101,"errmsg":"user refuse to accept the msg rid: 1"}`}, ErrUserRefused, 1},
		{"argument invalid", nil, []string{`{"errcode":47003,"errmsg":"argument invalid! data.thing01.value invalid"}`}, ErrArgumentInvalid, 1},
		{"system error not retried", nil, []string{`{"errcode":-1,"errmsg":"system error"}`, `{"errcode":0,"errmsg":"ok"}`}, wxkit.ErrSystemBusy, 1},
		{"system error retried when unsafe", []CallOption{RetryUnsafe()}, []string{`{"errcode":-1,"errmsg":"system error"}`, `{"errcode":0,"errmsg":"ok"}`}, nil, 2},
		{"minute quota retried", nil, []string{`{"errcode":45011,"errmsg":"api minute-quota reach limit"}`, `{"errcode":0,"errmsg":"ok"}`}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, p := setup(t)
			mux.HandleFunc("POST /cgi-bin/message/subscribe/send", func(w http.ResponseWriter, r *http.Request) {
				testQuery(t, r, map[string]string{"access_token": "tok-1"})
				testJSONBody(t, r, wantBody)
				n := int(p.count("/cgi-bin/message/subscribe/send")) - 1
				fmt.Fprint(w, tt.replies[min(n, len(tt.replies)-1)])
			})
			err := c.SendSubscribeMessage(t.Context(), msg, tt.opts...)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("SendSubscribeMessage = %v, want %v", err, tt.want)
			}
			if n := p.count("/cgi-bin/message/subscribe/send"); n != tt.calls {
				t.Errorf("calls = %d, want %d", n, tt.calls)
			}
		})
	}
	c, _, p := setup(t)
	for _, m := range []*SubscribeMessage{nil, {TemplateID: "T"}, {ToUser: "o"}} {
		if err := c.SendSubscribeMessage(t.Context(), m); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("SendSubscribeMessage(%+v) = %v, want ErrInvalidRequest", m, err)
		}
	}
	if n := p.count("/cgi-bin/message/subscribe/send"); n != 0 {
		t.Errorf("invalid messages were sent (%d calls)", n)
	}
}
