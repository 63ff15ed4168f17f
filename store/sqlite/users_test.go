package sqlite

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newUserStore(t *testing.T) *UserStore {
	t.Helper()
	s, err := NewUserStore(t.Context(), openTemp(t, filepath.Join(t.TempDir(), "users.db")))
	if err != nil {
		t.Fatalf("NewUserStore = %v", err)
	}
	return s
}

func TestUserStoreUpsert(t *testing.T) {
	t.Parallel()
	s := newUserStore(t)
	ctx := t.Context()
	t0 := time.UnixMilli(1_700_000_000_000)
	full := User{AppID: "wxapp", OpenID: "o1", UnionID: "u1", Nickname: "张三", HeadImgURL: "http://img/1",
		Sex: 1, City: "深圳", Province: "广东", Country: "中国"}

	steps := []struct {
		name    string
		in      User
		profile bool
		at      time.Time
		want    User
	}{
		{"base login of a new user stores the openid only",
			User{AppID: "wxapp", OpenID: "o1", Nickname: "ignored"}, false, t0,
			User{AppID: "wxapp", OpenID: "o1", FirstSeen: t0, LastSeen: t0}},
		{"userinfo login writes the profile and keeps first_seen",
			full, true, t0.Add(time.Hour),
			func() User { u := full; u.FirstSeen, u.LastSeen = t0, t0.Add(time.Hour); return u }()},
		{"base login keeps the profile and the unionid",
			User{AppID: "wxapp", OpenID: "o1"}, false, t0.Add(2 * time.Hour),
			func() User { u := full; u.FirstSeen, u.LastSeen = t0, t0.Add(2*time.Hour); return u }()},
		{"an older login does not move last_seen back",
			User{AppID: "wxapp", OpenID: "o1"}, false, t0.Add(time.Minute),
			func() User { u := full; u.FirstSeen, u.LastSeen = t0, t0.Add(2*time.Hour); return u }()},
		{"another app is another user",
			User{AppID: "wxother", OpenID: "o1", Nickname: "李四"}, true, t0,
			User{AppID: "wxother", OpenID: "o1", Nickname: "李四", FirstSeen: t0, LastSeen: t0}},
	}
	for _, st := range steps {
		got, err := s.Upsert(ctx, st.in, st.profile, st.at)
		if err != nil {
			t.Fatalf("%s: Upsert = %v", st.name, err)
		}
		if d := cmp.Diff(st.want, *got); d != "" {
			t.Errorf("%s: Upsert() mismatch (-want +got):\n%s", st.name, d)
		}
	}
	if _, err := s.Get(ctx, "wxapp", "nobody"); !errors.Is(err, ErrUserNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrUserNotFound", err)
	}
	if _, err := s.Upsert(ctx, User{AppID: "wxapp"}, false, t0); err == nil {
		t.Errorf("Upsert without openid = nil error, want error")
	}
}
