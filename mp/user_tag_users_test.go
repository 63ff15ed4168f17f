package mp

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTagUsersPaging: user/tag/get pages with next_openid (the last OpenID
// of the page; "" once a page is empty), an OpenID not in the list gives
// 40003, and AllUsers walks every page.
func TestTagUsersPaging(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	env.srv.SetUserPageSize(2)
	tags := env.c.Tag()
	vip, err := tags.Create(ctx, "VIP")
	if err != nil {
		t.Fatal(err)
	}
	if err := tags.TagUsers(ctx, vip.ID, env.users[:3]); err != nil {
		t.Fatal(err)
	}
	p1, err := tags.ListUsers(ctx, vip.ID, "")
	if err != nil || p1.Count != 2 || p1.NextOpenID != env.users[1] {
		t.Fatalf("Tag.ListUsers(first) = %+v, %v; want 2 users and next_openid %s", p1, err, env.users[1])
	}
	p2, err := tags.ListUsers(ctx, vip.ID, p1.NextOpenID)
	if err != nil || p2.Count != 1 || p2.Data.OpenIDs[0] != env.users[2] || p2.NextOpenID != env.users[2] {
		t.Fatalf("Tag.ListUsers(second) = %+v, %v; want %s", p2, err, env.users[2])
	}
	p3, err := tags.ListUsers(ctx, vip.ID, p2.NextOpenID)
	if err != nil || p3.Count != 0 || p3.NextOpenID != "" {
		t.Errorf("Tag.ListUsers(past the end) = %+v, %v; want an empty page and next_openid \"\"", p3, err)
	}
	_, err = tags.ListUsers(ctx, vip.ID, env.stranger)
	wantCode(t, "Tag.ListUsers(next_openid of a stranger)", err, 40003)

	var all []string
	for id, err := range tags.AllUsers(ctx, vip.ID) {
		if err != nil {
			t.Fatalf("Tag.AllUsers = %v", err)
		}
		all = append(all, id)
	}
	if diff := cmp.Diff(env.users[:3], all); diff != "" {
		t.Errorf("Tag.AllUsers mismatch (-want +got):\n%s", diff)
	}
	for _, err := range tags.AllUsers(ctx, 999) {
		wantCode(t, "Tag.AllUsers(unknown tag)", err, 45159)
	}
}
