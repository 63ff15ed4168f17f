package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wxkit/wxkit/store"
)

// TestAuthorizers checks a store.Authorizers: put and get, a replacement
// that keeps Created, the refresh token kept byte for byte, lists ordered
// by AppID and scoped to one component, unknown keys, required fields,
// copies, and concurrent puts.
func TestAuthorizers(t *testing.T, newStore func(t *testing.T) store.Authorizers) {
	t.Helper()
	// equal compares authorizers at ms precision, nil and empty alike.
	equal := cmp.Options{timeMS, cmpopts.EquateEmpty()}
	newAuthorizer := func(component string) *store.Authorizer {
		return &store.Authorizer{
			ComponentAppID: component,
			AppID:          unique("wxa"),
			// A ciphertext: any bytes, NUL and invalid UTF-8 included.
			RefreshToken: []byte{0x01, 0x00, 0xff, 0xfe, 'r', 't', 0x80, 0x00},
			FuncInfo:     []int{1, 15, 4},
			Nickname:     "微信SDK Demo Special",
			UserName:     "gh_eb5e3a772040",
			Authorized:   true,
			Created:      base,
			Updated:      base,
		}
	}

	t.Run("PutGet", func(t *testing.T) {
		s := newStore(t)
		a := newAuthorizer(unique("wxc"))
		mustNoErr(t, "PutAuthorizer", s.PutAuthorizer(t.Context(), a))
		got, err := s.Authorizer(t.Context(), a.ComponentAppID, a.AppID)
		mustNoErr(t, "Authorizer", err)
		if diff := cmp.Diff(a, got, equal); diff != "" {
			t.Errorf("Authorizer() mismatch (-put +read):\n%s", diff)
		}
	})

	t.Run("ReplaceKeepsCreated", func(t *testing.T) {
		s := newStore(t)
		a := newAuthorizer(unique("wxc"))
		mustNoErr(t, "PutAuthorizer", s.PutAuthorizer(t.Context(), a))
		// Unauthorized an hour later: every field but Created is replaced,
		// the refresh token and the permission sets by empty ones.
		b := &store.Authorizer{
			ComponentAppID: a.ComponentAppID,
			AppID:          a.AppID,
			Nickname:       "renamed",
			UserName:       a.UserName,
			Authorized:     false,
			Created:        base.Add(time.Hour),
			Updated:        base.Add(time.Hour),
		}
		mustNoErr(t, "PutAuthorizer(replace)", s.PutAuthorizer(t.Context(), b))
		got, err := s.Authorizer(t.Context(), a.ComponentAppID, a.AppID)
		mustNoErr(t, "Authorizer", err)
		want := *b
		want.Created = a.Created
		if diff := cmp.Diff(&want, got, equal); diff != "" {
			t.Errorf("Authorizer() after replacement (-want +got):\n%s", diff)
		}
		// Authorized again, with a new refresh token.
		c := newAuthorizer(a.ComponentAppID)
		c.AppID, c.RefreshToken, c.Updated, c.Created = a.AppID, []byte("second"), base.Add(2*time.Hour), base.Add(2*time.Hour)
		mustNoErr(t, "PutAuthorizer(again)", s.PutAuthorizer(t.Context(), c))
		got, err = s.Authorizer(t.Context(), a.ComponentAppID, a.AppID)
		mustNoErr(t, "Authorizer", err)
		want = *c
		want.Created = a.Created
		if diff := cmp.Diff(&want, got, equal); diff != "" {
			t.Errorf("Authorizer() after authorizing again (-want +got):\n%s", diff)
		}
	})

	t.Run("ListOrderedAndScoped", func(t *testing.T) {
		s := newStore(t)
		component, other := unique("wxc"), unique("wxc")
		var want []*store.Authorizer
		for i, name := range []string{"wx_c", "wx_a", "wx_d", "wx_b"} {
			a := newAuthorizer(component)
			a.AppID = name + unique("_")
			a.Authorized = i%2 == 0 // authorized and not alike
			mustNoErr(t, "PutAuthorizer", s.PutAuthorizer(t.Context(), a))
			want = append(want, a)
			// The same account authorized another component too.
			o := newAuthorizer(other)
			o.AppID = a.AppID
			mustNoErr(t, "PutAuthorizer(other component)", s.PutAuthorizer(t.Context(), o))
		}
		slices.SortFunc(want, func(a, b *store.Authorizer) int {
			switch {
			case a.AppID < b.AppID:
				return -1
			case a.AppID > b.AppID:
				return 1
			}
			return 0
		})
		got, err := s.ListAuthorizers(t.Context(), component)
		mustNoErr(t, "ListAuthorizers", err)
		if diff := cmp.Diff(want, got, equal); diff != "" {
			t.Errorf("ListAuthorizers() (-want +got):\n%s", diff)
		}
		none, err := s.ListAuthorizers(t.Context(), unique("wxc"))
		mustNoErr(t, "ListAuthorizers(unknown component)", err)
		if len(none) != 0 {
			t.Errorf("ListAuthorizers(unknown component) = %d authorizers, want none", len(none))
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		s := newStore(t)
		a := newAuthorizer(unique("wxc"))
		mustNoErr(t, "PutAuthorizer", s.PutAuthorizer(t.Context(), a))
		for _, k := range [][2]string{
			{a.ComponentAppID, unique("wxa")},
			{unique("wxc"), a.AppID},
			{a.AppID, a.ComponentAppID},
			{a.ComponentAppID, a.AppID + "x"},
			{a.ComponentAppID, ""},
		} {
			if _, err := s.Authorizer(t.Context(), k[0], k[1]); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Authorizer(%q, %q) error = %v, want store.ErrNotFound", k[0], k[1], err)
			}
		}
	})

	t.Run("RequiredFields", func(t *testing.T) {
		s := newStore(t)
		for _, a := range []*store.Authorizer{
			{AppID: unique("wxa"), Created: base, Updated: base},
			{ComponentAppID: unique("wxc"), Created: base, Updated: base},
		} {
			if err := s.PutAuthorizer(t.Context(), a); err == nil {
				t.Errorf("PutAuthorizer(%+v) = nil, want an error", a)
			}
		}
	})

	t.Run("Copies", func(t *testing.T) {
		s := newStore(t)
		a := newAuthorizer(unique("wxc"))
		want := *a
		want.RefreshToken, want.FuncInfo = slices.Clone(a.RefreshToken), slices.Clone(a.FuncInfo)
		mustNoErr(t, "PutAuthorizer", s.PutAuthorizer(t.Context(), a))
		a.RefreshToken[0], a.FuncInfo[0] = 'X', 99
		got, err := s.Authorizer(t.Context(), want.ComponentAppID, want.AppID)
		mustNoErr(t, "Authorizer", err)
		got.RefreshToken[0], got.FuncInfo[0] = 'Y', 98
		again, err := s.Authorizer(t.Context(), want.ComponentAppID, want.AppID)
		mustNoErr(t, "Authorizer", err)
		if diff := cmp.Diff(&want, again, equal); diff != "" {
			t.Errorf("the store shares memory with its caller (-put +read):\n%s", diff)
		}
	})

	t.Run("ConcurrentPuts", func(t *testing.T) {
		s := newStore(t)
		component, shared := unique("wxc"), unique("wxa")
		const n = 20
		puts := make([]*store.Authorizer, n)
		for i := range puts {
			a := newAuthorizer(component)
			a.AppID = shared
			a.Nickname = fmt.Sprintf("put-%02d", i)
			a.RefreshToken = fmt.Appendf(nil, "rt-%02d", i)
			a.Created, a.Updated = base.Add(time.Duration(i)*time.Second), base.Add(time.Duration(i)*time.Second)
			puts[i] = a
		}
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if err := s.PutAuthorizer(t.Context(), puts[i]); err != nil {
					t.Errorf("PutAuthorizer(%d) = %v", i, err)
				}
				// A distinct account at the same time.
				own := newAuthorizer(component)
				own.AppID = fmt.Sprintf("%s_own_%02d", shared, i)
				if err := s.PutAuthorizer(t.Context(), own); err != nil {
					t.Errorf("PutAuthorizer(own %d) = %v", i, err)
				}
			})
		}
		wg.Wait()
		list, err := s.ListAuthorizers(t.Context(), component)
		mustNoErr(t, "ListAuthorizers", err)
		if len(list) != n+1 {
			t.Fatalf("ListAuthorizers() = %d authorizers, want %d (one per account)", len(list), n+1)
		}
		got, err := s.Authorizer(t.Context(), component, shared)
		mustNoErr(t, "Authorizer", err)
		// The row is one of the puts, whole (no mix of two), with the
		// Created of one of them.
		var from *store.Authorizer
		for _, p := range puts {
			if p.Nickname == got.Nickname {
				from = p
			}
		}
		if from == nil {
			t.Fatalf("stored nickname %q is none of the puts", got.Nickname)
		}
		want := *from
		want.Created = got.Created
		if diff := cmp.Diff(&want, got, equal); diff != "" {
			t.Errorf("stored authorizer mixes puts (-put %s +stored):\n%s", from.Nickname, diff)
		}
		if got.Created.Before(base) || got.Created.After(base.Add(n*time.Second)) {
			t.Errorf("Created = %v, want one of the puts' values", got.Created)
		}
	})
}
