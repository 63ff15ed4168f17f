package memory

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/wxkit/wxkit/store"
)

// PutAuthorizer implements store.Authorizers: it stores a copy of a,
// keeping the Created of a stored authorizer with the same
// (ComponentAppID, AppID). Times are kept to the millisecond.
func (s *Store) PutAuthorizer(_ context.Context, a *store.Authorizer) error {
	if a == nil || a.ComponentAppID == "" || a.AppID == "" {
		return errors.New("memory: authorizer put: component appid and appid are required")
	}
	c := cloneAuthorizer(a)
	c.Created, c.Updated = ms(c.Created), ms(c.Updated)
	k := [2]string{a.ComponentAppID, a.AppID}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.auth == nil {
		s.auth = make(map[[2]string]store.Authorizer)
	}
	if cur, ok := s.auth[k]; ok {
		c.Created = cur.Created
	}
	s.auth[k] = c
	return nil
}

// Authorizer implements store.Authorizers.
func (s *Store) Authorizer(_ context.Context, componentAppID, appID string) (*store.Authorizer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.auth[[2]string{componentAppID, appID}]
	if !ok {
		return nil, store.ErrNotFound
	}
	c := cloneAuthorizer(&a)
	return &c, nil
}

// ListAuthorizers implements store.Authorizers.
func (s *Store) ListAuthorizers(_ context.Context, componentAppID string) ([]*store.Authorizer, error) {
	s.mu.Lock()
	var out []*store.Authorizer
	for k, a := range s.auth {
		if k[0] == componentAppID {
			c := cloneAuthorizer(&a)
			out = append(out, &c)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b *store.Authorizer) int { return strings.Compare(a.AppID, b.AppID) })
	return out, nil
}

// cloneAuthorizer copies a with its own slices.
func cloneAuthorizer(a *store.Authorizer) store.Authorizer {
	c := *a
	c.RefreshToken, c.FuncInfo = slices.Clone(a.RefreshToken), slices.Clone(a.FuncInfo)
	return c
}
