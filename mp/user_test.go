package mp

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
)

func TestUserGet(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	u, err := env.c.User().Get(ctx, env.users[0], &UserGetOptions{Lang: LangZhCN})
	if err != nil {
		t.Fatalf("User.Get = %v", err)
	}
	want := &User{Subscribe: 1, OpenID: env.users[0], Language: "zh_CN", UnionID: "uZhangSan",
		SubscribeTime: u.SubscribeTime, SubscribeScene: "ADD_SCENE_OTHERS", TagIDs: []int{}}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("User.Get mismatch (-want +got):\n%s", diff)
	}
	if !u.Subscribed() || u.SubscribeTime.IsZero() || !u.SubscribeTime.Before(emuT0) {
		t.Errorf("User.Get: subscribed %v at %v, want a follower who subscribed before %v", u.Subscribed(), u.SubscribeTime, emuT0)
	}

	gone, err := env.c.User().Get(ctx, env.users[3], nil)
	if err != nil || gone.Subscribed() || gone.OpenID != env.users[3] {
		t.Errorf("User.Get(unsubscribed) = %+v, %v; want subscribe 0", gone, err)
	}
	if _, err := env.c.User().Get(ctx, env.stranger, nil); !errors.Is(err, wxkit.ErrInvalidOpenID) {
		t.Errorf("User.Get(other app's user) = %v, want 40003", err)
	}
}

func TestUserBatchGet(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	users, err := env.c.User().BatchGet(ctx, []string{env.users[2], env.users[0]}, LangEn)
	if err != nil {
		t.Fatalf("User.BatchGet = %v", err)
	}
	var got []string
	for _, u := range users {
		got = append(got, u.OpenID)
	}
	if diff := cmp.Diff([]string{env.users[2], env.users[0]}, got); diff != "" {
		t.Errorf("User.BatchGet order mismatch (-want +got):\n%s", diff)
	}
	if _, err := env.c.User().BatchGet(ctx, []string{env.users[0], env.stranger}, ""); !errors.Is(err, wxkit.ErrInvalidOpenID) {
		t.Errorf("User.BatchGet(with a stranger) = %v, want 40003", err)
	}
	before := env.srv.Stats().Count("/cgi-bin/user/info/batchget", emuAppID).Calls
	_, err = env.c.User().BatchGet(ctx, make([]string, MaxBatchGetUsers+1), "")
	wantCode(t, "User.BatchGet(101)", err, 40032)
	if n := env.srv.Stats().Count("/cgi-bin/user/info/batchget", emuAppID).Calls - before; n != 0 {
		t.Errorf("User.BatchGet(101) made %d calls, want 0", n)
	}
}

func TestUserListAndAll(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	followers := env.users[:3]

	l, err := env.c.User().List(ctx, "")
	if err != nil {
		t.Fatalf("User.List = %v", err)
	}
	if l.Total != 3 || l.Count != 3 || l.NextOpenID != followers[2] {
		t.Errorf("User.List = %+v, want total 3, count 3, next %s", l, followers[2])
	}
	if diff := cmp.Diff(followers, l.Data.OpenIDs); diff != "" {
		t.Errorf("User.List openids mismatch (-want +got):\n%s", diff)
	}
	if _, err := env.c.User().List(ctx, "nobody"); !errors.Is(err, wxkit.ErrInvalidOpenID) {
		t.Errorf("User.List(bad cursor) = %v, want 40003", err)
	}

	for _, size := range []int{1, 2, 3, 10} {
		t.Run(fmt.Sprintf("page size %d", size), func(t *testing.T) {
			env.srv.SetUserPageSize(size)
			var got []string
			for id, err := range env.c.User().All(t.Context()) {
				if err != nil {
					t.Fatalf("User.All: %v", err)
				}
				got = append(got, id)
			}
			if diff := cmp.Diff(followers, got); diff != "" {
				t.Errorf("User.All mismatch (-want +got):\n%s", diff)
			}
		})
	}
	// Stopping early stops paging.
	env.srv.SetUserPageSize(1)
	before := env.srv.Stats().Count("/cgi-bin/user/get", emuAppID).Calls
	for range env.c.User().All(ctx) {
		break
	}
	if n := env.srv.Stats().Count("/cgi-bin/user/get", emuAppID).Calls - before; n != 1 {
		t.Errorf("User.All with break made %d calls, want 1", n)
	}
}

func TestUserAllError(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	if err := env.srv.InjectFault(emulatorFault("/cgi-bin/user/get", 48001)); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for id, err := range env.c.User().All(t.Context()) {
		if id != "" {
			t.Errorf("User.All yielded %q with a failing call", id)
		}
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], wxkit.ErrAPIUnauthorized) {
		t.Errorf("User.All errors = %v, want one 48001", errs)
	}
}

func TestUserUpdateRemark(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	if err := env.c.User().UpdateRemark(ctx, env.users[0], "老张"); err != nil {
		t.Fatalf("User.UpdateRemark = %v", err)
	}
	u, err := env.c.User().Get(ctx, env.users[0], nil)
	if err != nil || u.Remark != "老张" {
		t.Errorf("User.Get after UpdateRemark = %+v, %v; want remark 老张", u, err)
	}
	if err := env.c.User().UpdateRemark(ctx, env.users[0], bytesOf(29)); err != nil {
		t.Errorf("User.UpdateRemark(29 bytes) = %v, want nil", err)
	}
	wantCode(t, "User.UpdateRemark(30 bytes)", env.c.User().UpdateRemark(ctx, env.users[0], bytesOf(30)), 40035)
	if err := env.c.User().UpdateRemark(ctx, env.stranger, "x"); !errors.Is(err, wxkit.ErrInvalidOpenID) {
		t.Errorf("User.UpdateRemark(stranger) = %v, want 40003", err)
	}
}
