package mp

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWithAPIErrorHook: the hook hears the errcode of each failed API
// reply, a token rejection included, and nothing for a success.
func TestWithAPIErrorHook(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []int
	c, mux, _ := setup(t, WithAPIErrorHook(func(code int) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, code)
	}))
	calls := 0
	mux.HandleFunc("GET /cgi-bin/thing", func(w http.ResponseWriter, r *http.Request) {
		calls++
		switch calls {
		case 1:
			fmt.Fprint(w, `{"errcode":40001,"errmsg":"invalid credential"}`) // retried with a new token
		case 2:
			fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
		default:
			fmt.Fprint(w, `{"errcode":46003,"errmsg":"menu no exist"}`)
		}
	})
	for range 2 {
		req, err := c.NewRequest(t.Context(), "GET", "cgi-bin/thing", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Do(req, nil)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]int{40001, 46003}, got); diff != "" {
		t.Errorf("hook calls (-want +got):\n%s", diff)
	}
	if _, err := NewClient(testAppID, testSecret, WithAPIErrorHook(nil)); err == nil {
		t.Error("NewClient(WithAPIErrorHook(nil)) = nil error, want one")
	}
}
