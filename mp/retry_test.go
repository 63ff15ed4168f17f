package mp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/emulator"
	"github.com/wxkit/wxkit/internal/wxhttp"
)

// noBackoff makes c retry at once (the policy, not the delays, is under
// test), recording each wait.
func noBackoff(c *Client) *[]time.Duration {
	var waits []time.Duration
	c.api.Sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	return &waits
}

// faults makes the next n calls of path answer errcode code.
func (env *emuEnv) faults(t *testing.T, path string, code, n int) {
	t.Helper()
	if err := env.srv.InjectFault(emulator.Fault{Path: path, AppID: emuAppID, ErrCode: code, Count: n}); err != nil {
		t.Fatal(err)
	}
}

// calls returns how many calls of path the emulator has seen from the app.
func (env *emuEnv) calls(path string) int {
	return env.srv.Stats().Count(path, emuAppID).Calls
}

// TestRetryPolicyEmulator: against the emulator with injected faults, a
// send is not retried on -1 unless the caller opts in, a read is, and a
// 45011 or a rejected token is retried for both.
func TestRetryPolicyEmulator(t *testing.T) {
	t.Parallel()
	const sendPath = "/cgi-bin/message/custom/send"
	type call struct {
		name string
		path string
		do   func(ctx context.Context, env *emuEnv, c *Client) error
	}
	send := func(opts ...CallOption) func(context.Context, *emuEnv, *Client) error {
		return func(ctx context.Context, env *emuEnv, c *Client) error {
			return c.CustomerService().SendText(ctx, env.users[0], "您好", opts...)
		}
	}
	userGet := func(ctx context.Context, env *emuEnv, c *Client) error {
		u, err := c.User().Get(ctx, env.users[0], nil)
		if err == nil && u.OpenID != env.users[0] {
			return errors.New("wrong user")
		}
		return err
	}
	batchGet := func(ctx context.Context, env *emuEnv, c *Client) error {
		us, err := c.User().BatchGet(ctx, env.users[:2], "")
		if err == nil && len(us) != 2 {
			return errors.New("wrong users")
		}
		return err
	}
	tagIDs := func(ctx context.Context, env *emuEnv, c *Client) error {
		_, err := c.Tag().GetUserTags(ctx, env.users[0])
		return err
	}
	tagsGet := func(ctx context.Context, env *emuEnv, c *Client) error {
		_, err := c.Tag().List(ctx)
		return err
	}
	tagCreate := func(ctx context.Context, env *emuEnv, c *Client) error {
		_, err := c.Tag().Create(ctx, "重试")
		return err
	}
	menuDelete := func(ctx context.Context, env *emuEnv, c *Client) error { return c.Menu().Delete(ctx) }

	tests := []struct {
		name      string
		call      call
		unsafe    bool // client built WithRetryUnsafe
		code      int  // injected errcode
		faults    int  // injected count
		wantCalls int
		wantErr   error // nil: success
		wantSent  int   // customer-service messages delivered (sends only)
	}{
		{name: "send, two -1", call: call{"SendText", sendPath, send()}, code: -1, faults: 2,
			wantCalls: 1, wantErr: wxkit.ErrSystemBusy},
		{name: "send with RetryUnsafe, two -1", call: call{"SendText(RetryUnsafe)", sendPath, send(RetryUnsafe())}, code: -1, faults: 2,
			wantCalls: 3, wantSent: 1},
		{name: "send on a WithRetryUnsafe client, two -1", call: call{"SendText", sendPath, send()}, unsafe: true, code: -1, faults: 2,
			wantCalls: 3, wantSent: 1},
		{name: "send, two 45011", call: call{"SendText", sendPath, send()}, code: 45011, faults: 2,
			wantCalls: 3, wantSent: 1},
		{name: "send, token rejected", call: call{"SendText", sendPath, send()}, code: 40001, faults: 1,
			wantCalls: 2, wantSent: 1},
		{name: "send, token rejected twice", call: call{"SendText", sendPath, send()}, code: 42001, faults: 2,
			wantCalls: 2, wantErr: wxkit.ErrAccessTokenExpired},
		{name: "create, two -1", call: call{"Tag.Create", "/cgi-bin/tags/create", tagCreate}, code: -1, faults: 2,
			wantCalls: 1, wantErr: wxkit.ErrSystemBusy},
		{name: "GET menu/delete is not a read, two -1", call: call{"Menu.Delete", "/cgi-bin/menu/delete", menuDelete}, code: -1, faults: 2,
			wantCalls: 1, wantErr: wxkit.ErrSystemBusy},
		{name: "GET read, two -1", call: call{"User.Get", "/cgi-bin/user/info", userGet}, code: -1, faults: 2, wantCalls: 3},
		{name: "GET read, two 45011", call: call{"Tag.List", "/cgi-bin/tags/get", tagsGet}, code: 45011, faults: 2, wantCalls: 3},
		{name: "POST read, two -1", call: call{"User.BatchGet", "/cgi-bin/user/info/batchget", batchGet}, code: -1, faults: 2, wantCalls: 3},
		{name: "POST read, two 45011", call: call{"Tag.GetUserTags", "/cgi-bin/tags/getidlist", tagIDs}, code: 45011, faults: 2, wantCalls: 3},
		{name: "read, -1 on every attempt", call: call{"User.Get", "/cgi-bin/user/info", userGet}, code: -1, faults: -1,
			wantCalls: 4, wantErr: wxkit.ErrSystemBusy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newEmu(t)
			c := env.c
			if tt.unsafe {
				var err error
				c, err = NewClient(emuAppID, emuSecret, WithBaseURL(env.srv.URL+"/"), WithHTTPClient(env.srv.HTTP.Client()), WithRetryUnsafe())
				if err != nil {
					t.Fatal(err)
				}
			}
			waits := noBackoff(c)
			ctx := t.Context()
			if tt.call.path == sendPath {
				env.push(t, env.users[0], "在吗") // opens the customer-service window
			}
			env.faults(t, tt.call.path, tt.code, tt.faults)
			err := tt.call.do(ctx, env, c)
			if (tt.wantErr == nil) != (err == nil) || !errors.Is(err, tt.wantErr) {
				t.Fatalf("%s = %v, want %v", tt.call.name, err, tt.wantErr)
			}
			if err != nil {
				ae, ok := errors.AsType[*wxkit.APIError](err)
				if !ok || ae.Path != tt.call.path[1:] || ae.RID == "" {
					t.Errorf("%s error = %#v, want a *wxkit.APIError for %s with the emulator's rid", tt.call.name, err, tt.call.path)
				}
			}
			if got := env.calls(tt.call.path); got != tt.wantCalls {
				t.Errorf("%s made %d calls of %s, want %d", tt.call.name, got, tt.call.path, tt.wantCalls)
			}
			// Backoff waits come only from -1 and 45011 retries.
			wantWaits := tt.wantCalls - 1
			if tt.code != -1 && tt.code != 45011 {
				wantWaits = 0
			}
			if len(*waits) != wantWaits {
				t.Errorf("%s waited %v, want %d backoffs", tt.call.name, *waits, wantWaits)
			}
			if tt.call.path == sendPath {
				msgs, err := env.srv.CustomerServiceMessages(emuAppID, env.users[0])
				if err != nil {
					t.Fatal(err)
				}
				if len(msgs) != tt.wantSent {
					t.Errorf("%d messages delivered, want %d", len(msgs), tt.wantSent)
				}
			}
		})
	}
}

// TestIdempotentDo: Client.Do retries a call on -1 only when it is marked.
func TestIdempotentDo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		opts      []CallOption
		wantCalls int
	}{
		{"unmarked", nil, 1},
		{"Idempotent", []CallOption{Idempotent()}, 3},
		{"RetryUnsafe", []CallOption{RetryUnsafe()}, 3},
		{"unrelated option", []CallOption{SkipMenuValidation(), nil}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newEmu(t)
			noBackoff(env.c)
			env.faults(t, "/cgi-bin/get_current_selfmenu_info", -1, 2)
			req, err := env.c.NewRequest(t.Context(), "GET", "cgi-bin/get_current_selfmenu_info", nil)
			if err != nil {
				t.Fatal(err)
			}
			var info SelfMenuInfo
			err = env.c.Do(req, &info, tc.opts...)
			if got := env.calls("/cgi-bin/get_current_selfmenu_info"); got != tc.wantCalls {
				t.Errorf("Do made %d calls, want %d (err %v)", got, tc.wantCalls, err)
			}
			if wantErr := tc.wantCalls == 1; (err != nil) != wantErr {
				t.Errorf("Do = %v, want error %v", err, wantErr)
			}
		})
	}
}

// TestReadsAreMarked: every read of the services is retried on -1, every
// other call is not; the list is the package doc's.
func TestReadsAreMarked(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	noBackoff(env.c)
	ctx := t.Context()
	c := env.c
	u := env.users[0]
	byPath := map[string]func() error{
		"/cgi-bin/user/info":                         func() error { _, err := c.User().Get(ctx, u, nil); return err },
		"/cgi-bin/user/info/batchget":                func() error { _, err := c.User().BatchGet(ctx, []string{u}, ""); return err },
		"/cgi-bin/user/get":                          func() error { _, err := c.User().List(ctx, ""); return err },
		"/cgi-bin/tags/get":                          func() error { _, err := c.Tag().List(ctx); return err },
		"/cgi-bin/tags/getidlist":                    func() error { _, err := c.Tag().GetUserTags(ctx, u); return err },
		"/cgi-bin/user/tag/get":                      func() error { _, err := c.Tag().ListUsers(ctx, 2, ""); return err },
		"/cgi-bin/menu/get":                          func() error { _, err := c.Menu().Get(ctx); return err },
		"/cgi-bin/menu/trymatch":                     func() error { _, err := c.Menu().TryMatch(ctx, u); return err },
		"/cgi-bin/get_current_selfmenu_info":         func() error { _, err := c.Menu().GetCurrentSelfMenuInfo(ctx); return err },
		"/cgi-bin/media/get":                         func() error { _, err := c.Media().Get(ctx, "m"); return err },
		"/cgi-bin/material/get_material":             func() error { _, err := c.Media().GetMaterial(ctx, "m"); return err },
		"/cgi-bin/material/get_materialcount":        func() error { _, err := c.Media().GetMaterialCount(ctx); return err },
		"/cgi-bin/template/get_all_private_template": func() error { _, err := c.Template().ListPrivate(ctx); return err },
		"/cgi-bin/message/custom/send":               func() error { return c.CustomerService().SendText(ctx, u, "x") },
		"/cgi-bin/message/custom/typing":             func() error { return c.CustomerService().Typing(ctx, u, TypingCommandTyping) },
		"/cgi-bin/message/template/send":             func() error { _, err := c.Template().Send(ctx, &TemplateSendRequest{ToUser: u}); return err },
		"/cgi-bin/message/subscribe/bizsend":         func() error { return c.Subscribe().Send(ctx, &SubscribeSendRequest{ToUser: u}) },
		"/cgi-bin/template/del_private_template":     func() error { return c.Template().Delete(ctx, "t") },
		"/cgi-bin/menu/create":                       func() error { return c.Menu().Create(ctx, &Menu{Buttons: []Button{click("一")}}) },
		"/cgi-bin/menu/delete":                       func() error { return c.Menu().Delete(ctx) },
		"/cgi-bin/menu/addconditional": func() error {
			_, err := c.Menu().AddConditional(ctx, &Menu{Buttons: []Button{click("一")}, MatchRule: &MatchRule{TagID: "2"}})
			return err
		},
		"/cgi-bin/menu/delconditional": func() error { return c.Menu().DeleteConditional(ctx, 1) },
		"/cgi-bin/qrcode/create": func() error {
			_, err := c.QRCode().Create(ctx, NewTemporaryQRCode(QRScene{SceneID: 1}, time.Hour))
			return err
		},
		"/cgi-bin/media/upload": func() error {
			_, err := c.Media().Upload(ctx, MediaTypeImage, "a.jpg", strings.NewReader("\xff\xd8\xff"))
			return err
		},
		"/cgi-bin/material/add_material": func() error {
			_, err := c.Media().AddMaterial(ctx, MediaTypeImage, "a.jpg", strings.NewReader("\xff\xd8\xff"), nil)
			return err
		},
		"/cgi-bin/material/del_material":         func() error { return c.Media().DeleteMaterial(ctx, "m") },
		"/cgi-bin/user/info/updateremark":        func() error { return c.User().UpdateRemark(ctx, u, "r") },
		"/cgi-bin/tags/create":                   func() error { _, err := c.Tag().Create(ctx, "t"); return err },
		"/cgi-bin/tags/update":                   func() error { return c.Tag().Update(ctx, 100, "t") },
		"/cgi-bin/tags/delete":                   func() error { return c.Tag().Delete(ctx, 100) },
		"/cgi-bin/tags/members/batchtagging":     func() error { return c.Tag().TagUsers(ctx, 100, []string{u}) },
		"/cgi-bin/tags/members/batchuntagging":   func() error { return c.Tag().UntagUsers(ctx, 100, []string{u}) },
		"/cgi-bin/tags/members/getblacklist":     func() error { _, err := c.User().GetBlacklist(ctx, ""); return err },
		"/cgi-bin/tags/members/batchblacklist":   func() error { return c.User().Blacklist(ctx, []string{u}) },
		"/cgi-bin/tags/members/batchunblacklist": func() error { return c.User().Unblacklist(ctx, []string{u}) },
		"/cgi-bin/get_current_autoreply_info":    func() error { _, err := c.AutoReply().Get(ctx); return err },
	}
	for path, call := range dataCubeCalls(ctx, c.DataCube()) {
		byPath[path] = call
	}
	isRead := map[string]bool{}
	for _, p := range []string{"/cgi-bin/user/info", "/cgi-bin/user/info/batchget", "/cgi-bin/user/get", "/cgi-bin/tags/get",
		"/cgi-bin/tags/getidlist", "/cgi-bin/user/tag/get", "/cgi-bin/menu/get", "/cgi-bin/menu/trymatch",
		"/cgi-bin/get_current_selfmenu_info", "/cgi-bin/media/get", "/cgi-bin/material/get_material",
		"/cgi-bin/material/get_materialcount", "/cgi-bin/template/get_all_private_template",
		"/cgi-bin/tags/members/getblacklist", "/cgi-bin/get_current_autoreply_info"} {
		isRead[p] = true
	}
	for p := range dataCubeCalls(ctx, c.DataCube()) {
		isRead[p] = true // every data API only reads
	}
	got, want := map[string]int{}, map[string]int{}
	for path, call := range byPath {
		env.faults(t, path, -1, -1)
		_ = call()
		got[path] = env.calls(path)
		want[path] = 1
		if isRead[path] {
			want[path] = wxhttp.DefaultMaxAttempts
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls per path under -1 (-want +got):\n%s", diff)
	}
}
