package mp

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit"
)

func TestTagLifecycle(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	tags := env.c.Tag()

	vip, err := tags.Create(ctx, "VIP客户")
	if err != nil || vip.ID < 100 || vip.Name != "VIP客户" {
		t.Fatalf("Tag.Create = %+v, %v", vip, err)
	}
	wantCode(t, "Tag.Create(duplicate)", func() error { _, err := tags.Create(ctx, "VIP客户"); return err }(), 45157)
	wantCode(t, "Tag.Create(31 bytes)", func() error { _, err := tags.Create(ctx, bytesOf(31)); return err }(), 45158)
	if _, err := tags.Create(ctx, bytesOf(30)); err != nil {
		t.Errorf("Tag.Create(30 bytes) = %v, want nil", err)
	}

	if err := tags.TagUsers(ctx, vip.ID, env.users[:2]); err != nil {
		t.Fatalf("Tag.TagUsers = %v", err)
	}
	wantCode(t, "Tag.TagUsers(stranger)", tags.TagUsers(ctx, vip.ID, []string{env.users[2], env.stranger}), 40003)
	wantCode(t, "Tag.TagUsers(unknown tag)", tags.TagUsers(ctx, 999, env.users[:1]), 45159)
	wantCode(t, "Tag.TagUsers(51)", tags.TagUsers(ctx, vip.ID, make([]string, MaxTagOpenIDs+1)), 40032)

	list, err := tags.List(ctx)
	if err != nil {
		t.Fatalf("Tag.List = %v", err)
	}
	i := slices.IndexFunc(list, func(tg Tag) bool { return tg.ID == vip.ID })
	if i < 0 || list[i].Count != 2 {
		t.Errorf("Tag.List = %+v, want %d with count 2", list, vip.ID)
	}
	ids, err := tags.GetUserTags(ctx, env.users[1])
	if err != nil || !slices.Contains(ids, vip.ID) {
		t.Errorf("Tag.GetUserTags = %v, %v; want it to hold %d", ids, err, vip.ID)
	}
	if _, err := tags.GetUserTags(ctx, env.stranger); !errors.Is(err, wxkit.ErrInvalidOpenID) {
		t.Errorf("Tag.GetUserTags(stranger) = %v, want 40003", err)
	}
	page, err := tags.ListUsers(ctx, vip.ID, "")
	if err != nil || page.Count != 2 {
		t.Fatalf("Tag.ListUsers = %+v, %v", page, err)
	}
	if diff := cmp.Diff(env.users[:2], page.Data.OpenIDs); diff != "" {
		t.Errorf("Tag.ListUsers mismatch (-want +got):\n%s", diff)
	}
	if _, err := tags.ListUsers(ctx, 12345, ""); !errors.Is(err, &wxkit.APIError{ErrCode: 45159}) {
		t.Errorf("Tag.ListUsers(unknown tag) = %v, want 45159", err)
	}

	if err := tags.UntagUsers(ctx, vip.ID, env.users[:1]); err != nil {
		t.Fatalf("Tag.UntagUsers = %v", err)
	}
	if ids, _ := tags.GetUserTags(ctx, env.users[0]); slices.Contains(ids, vip.ID) {
		t.Errorf("Tag.GetUserTags after UntagUsers = %v, want no %d", ids, vip.ID)
	}

	if err := tags.Update(ctx, vip.ID, "SVIP"); err != nil {
		t.Fatalf("Tag.Update = %v", err)
	}
	for _, id := range []int{0, 1, 2} {
		wantCode(t, fmt.Sprintf("Tag.Update(%d)", id), tags.Update(ctx, id, "x"), 45058)
		wantCode(t, fmt.Sprintf("Tag.Delete(%d)", id), tags.Delete(ctx, id), 45058)
	}
	if err := tags.Delete(ctx, vip.ID); err != nil {
		t.Fatalf("Tag.Delete = %v", err)
	}
	wantCode(t, "Tag.Delete(again)", tags.Delete(ctx, vip.ID), 45159)
	if ids, _ := tags.GetUserTags(ctx, env.users[1]); slices.Contains(ids, vip.ID) {
		t.Errorf("Tag.GetUserTags after Delete = %v, want no %d", ids, vip.ID)
	}
}

func TestTagLimits(t *testing.T) {
	t.Parallel()
	env := newEmu(t)
	ctx := t.Context()
	tags := env.c.Tag()
	var ids []int
	for i := range MaxTags {
		tg, err := tags.Create(ctx, fmt.Sprintf("tag%03d", i))
		if err != nil {
			t.Fatalf("Tag.Create #%d = %v", i+1, err)
		}
		ids = append(ids, tg.ID)
	}
	_, err := tags.Create(ctx, "one too many")
	wantCode(t, "Tag.Create(#101)", err, 45056)

	// A user carries at most 20 tags.
	for _, id := range ids[:20] {
		if err := tags.TagUsers(ctx, id, env.users[:1]); err != nil {
			t.Fatalf("Tag.TagUsers(%d) = %v", id, err)
		}
	}
	wantCode(t, "Tag.TagUsers(21st tag)", tags.TagUsers(ctx, ids[20], env.users[:1]), 45059)
}
