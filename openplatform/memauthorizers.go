package openplatform

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/wxkit/wxkit/store"
)

// memAuthorizers is the store.Authorizers of a Component built without
// WithAuthorizers: process memory.
type memAuthorizers struct {
	mu sync.Mutex
	m  map[[2]string]store.Authorizer
}

var _ store.Authorizers = (*memAuthorizers)(nil)

func (s *memAuthorizers) PutAuthorizer(_ context.Context, a *store.Authorizer) error {
	if a == nil || a.ComponentAppID == "" || a.AppID == "" {
		return errors.New("openplatform: authorizer put: component appid and appid are required")
	}
	c := cloneAuthorizer(a)
	k := [2]string{a.ComponentAppID, a.AppID}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[[2]string]store.Authorizer)
	}
	if cur, ok := s.m[k]; ok {
		c.Created = cur.Created
	}
	s.m[k] = c
	return nil
}

func (s *memAuthorizers) Authorizer(_ context.Context, componentAppID, appID string) (*store.Authorizer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.m[[2]string{componentAppID, appID}]
	if !ok {
		return nil, store.ErrNotFound
	}
	c := cloneAuthorizer(&a)
	return &c, nil
}

func (s *memAuthorizers) ListAuthorizers(_ context.Context, componentAppID string) ([]*store.Authorizer, error) {
	s.mu.Lock()
	var out []*store.Authorizer
	for k, a := range s.m {
		if k[0] == componentAppID {
			c := cloneAuthorizer(&a)
			out = append(out, &c)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b *store.Authorizer) int { return strings.Compare(a.AppID, b.AppID) })
	return out, nil
}

func cloneAuthorizer(a *store.Authorizer) store.Authorizer {
	c := *a
	c.RefreshToken, c.FuncInfo = slices.Clone(a.RefreshToken), slices.Clone(a.FuncInfo)
	return c
}
