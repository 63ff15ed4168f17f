package mp

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/emulator"
)

func TestUserBlacklist(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	us := env.c.User()
	if p, err := us.GetBlacklist(ctx, ""); err != nil || p.Total != 0 || p.Count != 0 || len(p.Data.OpenIDs) != 0 {
		t.Fatalf("User.GetBlacklist(empty) = %+v, %v", p, err)
	}
	if err := us.Blacklist(ctx, []string{env.users[1], env.users[0]}); err != nil {
		t.Fatalf("User.Blacklist = %v", err)
	}
	p, err := us.GetBlacklist(ctx, "")
	if err != nil {
		t.Fatalf("User.GetBlacklist = %v", err)
	}
	if p.Total != 2 || p.Count != 2 || p.NextOpenID != env.users[0] {
		t.Errorf("User.GetBlacklist = %+v, want 2 ending at %s", p, env.users[0])
	}
	if diff := cmp.Diff([]string{env.users[1], env.users[0]}, p.Data.OpenIDs); diff != "" {
		t.Errorf("User.GetBlacklist openids (-want +got):\n%s", diff)
	}

	// A blacklisted user's messages no longer reach the account.
	res, err := env.srv.Push(ctx, emuAppID, emulator.PushRequest{User: env.users[0], Content: "hello"})
	if err != nil || !res.Blocked || len(res.Attempts) != 0 {
		t.Errorf("push from a blacklisted user = %+v, %v; want blocked, not delivered", res, err)
	}

	if err := us.Unblacklist(ctx, []string{env.users[1]}); err != nil {
		t.Fatalf("User.Unblacklist = %v", err)
	}
	if got, _ := env.srv.Blacklist(emuAppID); !cmp.Equal(got, []string{env.users[0]}) {
		t.Errorf("blacklist after Unblacklist = %v, want [%s]", got, env.users[0])
	}

	// Errors.
	if err := us.Blacklist(ctx, []string{env.users[2], env.stranger}); !errors.Is(err, wxkit.ErrInvalidOpenID) {
		t.Errorf("User.Blacklist(with a stranger) = %v, want 40003", err)
	}
	if got, _ := env.srv.Blacklist(emuAppID); len(got) != 1 {
		t.Errorf("a failed Blacklist changed the blacklist: %v", got)
	}
	wantCode(t, "User.Blacklist(none)", us.Blacklist(ctx, nil), 40032)
	wantCode(t, "User.Unblacklist(none)", us.Unblacklist(ctx, []string{}), 40032)
	for name, call := range map[string]func() error{
		"Blacklist":   func() error { return us.Blacklist(ctx, make([]string, MaxBlacklistOpenIDs+1)) },
		"Unblacklist": func() error { return us.Unblacklist(ctx, make([]string, MaxBlacklistOpenIDs+1)) },
	} {
		before := env.calls("/cgi-bin/tags/members/batchblacklist") + env.calls("/cgi-bin/tags/members/batchunblacklist")
		wantCode(t, "User."+name+"(21)", call(), 40032)
		if n := env.calls("/cgi-bin/tags/members/batchblacklist") + env.calls("/cgi-bin/tags/members/batchunblacklist") - before; n != 0 {
			t.Errorf("User.%s(21) made %d calls, want 0", name, n)
		}
	}
	if _, err := us.GetBlacklist(ctx, env.users[3]); !errors.Is(err, wxkit.ErrInvalidOpenID) {
		t.Errorf("User.GetBlacklist(not on the list) = %v, want 40003", err)
	}
}

func TestUserAllBlacklisted(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	want := env.users
	if err := env.c.User().Blacklist(ctx, want); err != nil {
		t.Fatal(err)
	}
	env.srv.SetUserPageSize(1)
	var got []string
	for id, err := range env.c.User().AllBlacklisted(ctx) {
		if err != nil {
			t.Fatalf("User.AllBlacklisted = %v", err)
		}
		got = append(got, id)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("User.AllBlacklisted (-want +got):\n%s", diff)
	}
	// One call per page and one that finds the end.
	if n := env.calls("/cgi-bin/tags/members/getblacklist"); n != len(want)+1 {
		t.Errorf("User.AllBlacklisted made %d calls, want %d", n, len(want)+1)
	}

	if err := env.srv.InjectFault(emulatorFault("/cgi-bin/tags/members/getblacklist", 48001)); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for id, err := range env.c.User().AllBlacklisted(ctx) {
		if id != "" {
			t.Errorf("User.AllBlacklisted yielded %q with a failing call", id)
		}
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], wxkit.ErrAPIUnauthorized) {
		t.Errorf("User.AllBlacklisted errors = %v, want one 48001", errs)
	}
}
