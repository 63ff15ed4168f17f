package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/store"
)

// TestUsers checks a store.Users: insert, profile and base logins,
// unionid handling, lookups, and 50 concurrent upserts of one user.
func TestUsers(t *testing.T, newStore func(t *testing.T) store.Users) {
	t.Helper()
	profile := store.User{Nickname: "张三", HeadImgURL: "https://thirdwx.qlogo.cn/a/0", Sex: 1,
		City: "Shenzhen", Province: "Guangdong", Country: "CN"}

	t.Run("InsertWithProfile", func(t *testing.T) {
		s := newStore(t)
		u := profile
		u.AppID, u.OpenID, u.UnionID = "wx_users_a", unique("o"), "u1"
		got, err := s.UpsertUser(t.Context(), &u, true, base)
		mustNoErr(t, "UpsertUser", err)
		want := u
		want.FirstSeen, want.LastSeen = base, base
		if diff := cmp.Diff(&want, got, timeMS); diff != "" {
			t.Errorf("UpsertUser() mismatch (-want +got):\n%s", diff)
		}
		again, err := s.User(t.Context(), u.AppID, u.OpenID)
		mustNoErr(t, "User", err)
		if diff := cmp.Diff(got, again, timeMS); diff != "" {
			t.Errorf("User() after UpsertUser mismatch (-upserted +read):\n%s", diff)
		}
	})

	t.Run("BaseLoginKeepsProfile", func(t *testing.T) {
		s := newStore(t)
		u := profile
		u.AppID, u.OpenID, u.UnionID = "wx_users_a", unique("o"), "union-1"
		_, err := s.UpsertUser(t.Context(), &u, true, base)
		mustNoErr(t, "UpsertUser(profile)", err)
		// An snsapi_base login: no profile, no unionid; later than the first.
		later := base.Add(time.Hour)
		got, err := s.UpsertUser(t.Context(), &store.User{AppID: u.AppID, OpenID: u.OpenID, Nickname: "ignored"}, false, later)
		mustNoErr(t, "UpsertUser(base)", err)
		want := u
		want.FirstSeen, want.LastSeen = base, later
		if diff := cmp.Diff(&want, got, timeMS); diff != "" {
			t.Errorf("base login changed the profile or times (-want +got):\n%s", diff)
		}
		// An older login (clock skew between instances) never moves LastSeen back.
		got, err = s.UpsertUser(t.Context(), &store.User{AppID: u.AppID, OpenID: u.OpenID}, false, base.Add(time.Minute))
		mustNoErr(t, "UpsertUser(older)", err)
		if !sameTime(got.LastSeen, later) || !sameTime(got.FirstSeen, base) {
			t.Errorf("after an older login: FirstSeen %v LastSeen %v, want %v and %v", got.FirstSeen, got.LastSeen, base, later)
		}
		// A new profile replaces the old one; a new unionid replaces the old.
		p2 := store.User{AppID: u.AppID, OpenID: u.OpenID, UnionID: "union-2", Nickname: "李四"}
		got, err = s.UpsertUser(t.Context(), &p2, true, later.Add(time.Hour))
		mustNoErr(t, "UpsertUser(new profile)", err)
		if got.Nickname != "李四" || got.City != "" || got.UnionID != "union-2" || got.Sex != 0 {
			t.Errorf("after a new profile login: %+v, want nickname 李四, no city, sex 0, unionid union-2", got)
		}
	})

	t.Run("PhoneNumber", func(t *testing.T) {
		s := newStore(t)
		u := profile
		u.AppID, u.OpenID = "wx_users_a", unique("o")
		_, err := s.UpsertUser(t.Context(), &u, true, base)
		mustNoErr(t, "UpsertUser", err)
		got, err := s.UpsertUser(t.Context(), &store.User{AppID: u.AppID, OpenID: u.OpenID, PhoneNumber: "+86 13800138000"}, false, base.Add(time.Minute))
		mustNoErr(t, "UpsertUser(phone)", err)
		if got.PhoneNumber != "+86 13800138000" || got.Nickname != profile.Nickname {
			t.Errorf("after a phone upsert: %+v, want the phone number and the profile kept", got)
		}
		// A later login without a number keeps it, a profile login too.
		got, err = s.UpsertUser(t.Context(), &store.User{AppID: u.AppID, OpenID: u.OpenID, Nickname: "李四"}, true, base.Add(time.Hour))
		mustNoErr(t, "UpsertUser(login)", err)
		if got.PhoneNumber != "+86 13800138000" || got.Nickname != "李四" {
			t.Errorf("after a login without a phone number: %+v, want the number kept", got)
		}
		read, err := s.User(t.Context(), u.AppID, u.OpenID)
		mustNoErr(t, "User", err)
		if read.PhoneNumber != "+86 13800138000" {
			t.Errorf("User().PhoneNumber = %q, want +86 13800138000", read.PhoneNumber)
		}
	})

	t.Run("BaseLoginOfNewUser", func(t *testing.T) {
		s := newStore(t)
		u := profile
		u.AppID, u.OpenID = "wx_users_a", unique("o")
		got, err := s.UpsertUser(t.Context(), &u, false, base)
		mustNoErr(t, "UpsertUser", err)
		want := store.User{AppID: u.AppID, OpenID: u.OpenID, FirstSeen: base, LastSeen: base}
		if diff := cmp.Diff(&want, got, timeMS); diff != "" {
			t.Errorf("a new user without profile mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("PerApp", func(t *testing.T) {
		s := newStore(t)
		openID := unique("o")
		_, err := s.UpsertUser(t.Context(), &store.User{AppID: "wx_users_a", OpenID: openID, Nickname: "A"}, true, base)
		mustNoErr(t, "UpsertUser(a)", err)
		_, err = s.UpsertUser(t.Context(), &store.User{AppID: "wx_users_b", OpenID: openID, Nickname: "B"}, true, base)
		mustNoErr(t, "UpsertUser(b)", err)
		a, err := s.User(t.Context(), "wx_users_a", openID)
		mustNoErr(t, "User(a)", err)
		if a.Nickname != "A" {
			t.Errorf("User(a).Nickname = %q, want A (apps must not share a record)", a.Nickname)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.User(t.Context(), "wx_users_a", unique("missing")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("User(unknown) error = %v, want store.ErrNotFound", err)
		}
	})

	t.Run("RequiresIDs", func(t *testing.T) {
		s := newStore(t)
		for _, u := range []store.User{{AppID: "wx_users_a"}, {OpenID: "o"}} {
			if _, err := s.UpsertUser(t.Context(), &u, false, base); err == nil {
				t.Errorf("UpsertUser(%+v) error = nil, want an error (appid and openid are required)", u)
			}
		}
	})

	t.Run("ConcurrentUpsertsOneRecord", func(t *testing.T) {
		s := newStore(t)
		openID := unique("o")
		const n = 50
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				u := store.User{AppID: "wx_users_a", OpenID: openID, UnionID: "union", Nickname: "n"}
				if _, err := s.UpsertUser(t.Context(), &u, i%2 == 0, base.Add(time.Duration(i)*time.Second)); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent UpsertUser = %v, want every upsert to succeed", err)
		}
		got, err := s.User(t.Context(), "wx_users_a", openID)
		mustNoErr(t, "User", err)
		if want := base.Add((n - 1) * time.Second); !sameTime(got.LastSeen, want) {
			t.Errorf("LastSeen = %v, want the latest login %v", got.LastSeen, want)
		}
		if got.FirstSeen.Before(base) || got.FirstSeen.After(got.LastSeen) {
			t.Errorf("FirstSeen = %v, want within [%v, LastSeen]", got.FirstSeen, base)
		}
		if got.UnionID != "union" || got.Nickname != "n" {
			t.Errorf("user = %+v, want unionid union and nickname n", got)
		}
	})
}

// timeMS compares times at millisecond precision, the precision stores keep.
var timeMS = cmp.Comparer(func(a, b time.Time) bool { return sameTime(a, b) })
