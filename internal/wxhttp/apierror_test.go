package wxhttp

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOnAPIError: OnAPIError hears every reply with a non-zero errcode,
// once per reply (retried attempts included), and nothing else.
func TestOnAPIError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		replies []string // served in turn; the last one repeats
		status  int      // HTTP status of every reply; 0 means 200
		raw     bool     // DoRaw instead of Do
		opts    []CallOption
		want    []int
	}{
		{name: "ok", replies: []string{`{"errcode":0,"errmsg":"ok"}`}},
		{name: "no errcode field", replies: []string{`{"value":"v"}`}},
		{name: "errcode on 200", replies: []string{`{"errcode":40003,"errmsg":"invalid openid"}`}, want: []int{40003}},
		{name: "errcode on 500", status: 500, replies: []string{`{"errcode":48001,"errmsg":"api unauthorized"}`}, want: []int{48001}},
		{name: "500 not JSON", status: 502, replies: []string{`<html>oops`}},
		{name: "token rejected then ok", replies: []string{`{"errcode":40001,"errmsg":"invalid credential"}`, `{"errcode":0}`}, want: []int{40001}},
		{name: "busy, not retried", replies: []string{`{"errcode":-1,"errmsg":"system error"}`}, want: []int{-1}},
		{name: "busy on every attempt", opts: []CallOption{RetrySystemError()}, replies: []string{`{"errcode":-1,"errmsg":"system error"}`}, want: []int{-1, -1, -1, -1}},
		{name: "busy then ok", replies: []string{`{"errcode":45011,"errmsg":"api minute-quota reach limit"}`, `{"errcode":0}`}, want: []int{45011}},
		{name: "raw download failed", raw: true, replies: []string{`{"errcode":40007,"errmsg":"invalid media_id"}`}, want: []int{40007}},
		{name: "raw download ok", raw: true, replies: []string{`not json: a file`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _, _ := setup(t)
			var mu sync.Mutex
			var got []int
			c.OnAPIError = func(code int) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, code)
			}
			var n atomic.Int32
			mux.HandleFunc("/x", func(w http.ResponseWriter, r *http.Request) {
				i := min(int(n.Add(1))-1, len(tc.replies)-1)
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				fmt.Fprint(w, tc.replies[i])
			})
			req, err := c.NewRequest(t.Context(), "GET", "x", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.raw {
				c.DoRaw(req, tc.opts...)
			} else {
				c.Do(req, nil, tc.opts...)
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("OnAPIError calls (-want +got):\n%s", diff)
			}
		})
	}
}
