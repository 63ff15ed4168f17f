// Package memory holds in-process implementations of the store interfaces
// (store.Users, store.Sessions, store.OAuthStates, store.MessageLog,
// store.Outbox, store.Orders, store.Authorizers): nothing survives the
// process and nothing is shared with another. They serve tests and experiments; they pass the same
// conformance suite (store/storetest) as the database backends.
package memory

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/wxkit/wxkit/store"
)

// Store implements every store interface in memory. The zero value is
// ready to use; it is safe for concurrent use.
type Store struct {
	mu       sync.Mutex
	users    map[[2]string]store.User
	sessions map[[32]byte]store.Session
	states   map[string]stateRec
	messages []*store.LoggedMessage
	msgKeys  map[[2]string]bool
	jobs     map[int64]*jobRec
	jobKeys  map[[2]string]int64
	nextJob  int64
	pay      payTables                      // orders.go
	auth     map[[2]string]store.Authorizer // authorizers.go
}

type stateRec struct {
	data    string
	expires time.Time
}

type jobRec struct {
	job  store.Job
	dead bool
}

var (
	_ store.Users       = (*Store)(nil)
	_ store.Sessions    = (*Store)(nil)
	_ store.OAuthStates = (*Store)(nil)
	_ store.MessageLog  = (*Store)(nil)
	_ store.Outbox      = (*Store)(nil)
	_ store.Orders      = (*Store)(nil)
	_ store.Authorizers = (*Store)(nil)
	_ store.Pinger      = (*Store)(nil)
)

// Ping implements store.Pinger; it always succeeds.
func (s *Store) Ping(context.Context) error { return nil }

// UpsertUser implements store.Users.
func (s *Store) UpsertUser(_ context.Context, u *store.User, profile bool, at time.Time) (*store.User, error) {
	if u.AppID == "" || u.OpenID == "" {
		return nil, errors.New("memory: user upsert: appid and openid are required")
	}
	at = at.Truncate(time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users == nil {
		s.users = make(map[[2]string]store.User)
	}
	k := [2]string{u.AppID, u.OpenID}
	cur, ok := s.users[k]
	if !ok {
		cur = store.User{AppID: u.AppID, OpenID: u.OpenID, FirstSeen: at, LastSeen: at}
	}
	if at.After(cur.LastSeen) {
		cur.LastSeen = at
	}
	if u.UnionID != "" {
		cur.UnionID = u.UnionID
	}
	if u.PhoneNumber != "" {
		cur.PhoneNumber = u.PhoneNumber
	}
	if profile {
		cur.Nickname, cur.HeadImgURL, cur.Sex = u.Nickname, u.HeadImgURL, u.Sex
		cur.City, cur.Province, cur.Country = u.City, u.Province, u.Country
	}
	s.users[k] = cur
	return &cur, nil
}

// User implements store.Users.
func (s *Store) User(_ context.Context, appID, openID string) (*store.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[[2]string{appID, openID}]
	if !ok {
		return nil, store.ErrNotFound
	}
	return &u, nil
}

// CreateSession implements store.Sessions.
func (s *Store) CreateSession(_ context.Context, id string, sess *store.Session) error {
	if id == "" || sess.AppID == "" || sess.OpenID == "" {
		return errors.New("memory: session create: id, appid and openid are required")
	}
	c := *sess
	if c.User != nil {
		u := *c.User
		c.User = &u
	}
	c.SealedSessionKey = bytes.Clone(c.SealedSessionKey)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions == nil {
		s.sessions = make(map[[32]byte]store.Session)
	}
	s.sessions[sha256.Sum256([]byte(id))] = c
	return nil
}

// Session implements store.Sessions.
func (s *Store) Session(_ context.Context, id string, now time.Time) (*store.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[sha256.Sum256([]byte(id))]
	if !ok || !now.Before(sess.Expires) {
		return nil, store.ErrNotFound
	}
	if sess.User != nil {
		u := *sess.User
		sess.User = &u
	}
	sess.SealedSessionKey = bytes.Clone(sess.SealedSessionKey)
	return &sess, nil
}

// DeleteSession implements store.Sessions.
func (s *Store) DeleteSession(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, sha256.Sum256([]byte(id)))
	return nil
}

// PutState implements store.OAuthStates.
func (s *Store) PutState(_ context.Context, nonce, data string, expires time.Time) error {
	if nonce == "" {
		return errors.New("memory: state put: empty nonce")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.states == nil {
		s.states = make(map[string]stateRec)
	}
	if _, ok := s.states[nonce]; ok {
		return store.ErrConflict
	}
	s.states[nonce] = stateRec{data, expires}
	return nil
}

// TakeState implements store.OAuthStates.
func (s *Store) TakeState(_ context.Context, nonce string, now time.Time) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.states[nonce]
	delete(s.states, nonce)
	if !ok || !now.Before(r.expires) {
		return "", store.ErrNotFound
	}
	return r.data, nil
}

// AppendMessages implements store.MessageLog.
func (s *Store) AppendMessages(_ context.Context, msgs []*store.LoggedMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.msgKeys == nil {
		s.msgKeys = make(map[[2]string]bool)
	}
	for _, m := range msgs {
		k := [2]string{m.AppID, m.DedupKey}
		if s.msgKeys[k] {
			continue
		}
		s.msgKeys[k] = true
		c := *m
		c.ReceivedAt = c.ReceivedAt.Truncate(time.Millisecond)
		c.Request, c.Reply = slices.Clone(m.Request), slices.Clone(m.Reply)
		s.messages = append(s.messages, &c)
	}
	return nil
}

// Messages implements store.MessageLog.
func (s *Store) Messages(_ context.Context, q store.MessageQuery) ([]*store.LoggedMessage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*store.LoggedMessage
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if (q.AppID == "" || m.AppID == q.AppID) && !m.ReceivedAt.Before(q.Since) {
			c := *m
			out = append(out, &c)
		}
	}
	slices.SortStableFunc(out, func(a, b *store.LoggedMessage) int { return b.ReceivedAt.Compare(a.ReceivedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// CountMessages implements store.MessageLog.
func (s *Store) CountMessages(_ context.Context, appID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.messages {
		if appID == "" || m.AppID == appID {
			n++
		}
	}
	return n, nil
}

// PruneMessages implements store.MessageLog.
func (s *Store) PruneMessages(_ context.Context, before time.Time, limit int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := make([]int, 0)
	for i, m := range s.messages {
		if m.ReceivedAt.Before(before) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return s.messages[a].ReceivedAt.Compare(s.messages[b].ReceivedAt) })
	if len(idx) > limit {
		idx = idx[:limit]
	}
	drop := make(map[int]bool, len(idx))
	for _, i := range idx {
		drop[i] = true
		delete(s.msgKeys, [2]string{s.messages[i].AppID, s.messages[i].DedupKey})
	}
	kept := s.messages[:0]
	for i, m := range s.messages {
		if !drop[i] {
			kept = append(kept, m)
		}
	}
	clear(s.messages[len(kept):])
	s.messages = kept
	return int64(len(idx)), nil
}

// EnqueueJob implements store.Outbox.
func (s *Store) EnqueueJob(_ context.Context, j *store.Job) error {
	if j.Kind == "" || j.Key == "" {
		return errors.New("memory: enqueue: kind and key are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enqueueLocked(j)
	return nil
}

// enqueueLocked is EnqueueJob for a caller that holds s.mu (and has checked
// Kind and Key), so that a state change and the job announcing it are
// made together.
func (s *Store) enqueueLocked(j *store.Job) {
	if s.jobs == nil {
		s.jobs, s.jobKeys = make(map[int64]*jobRec), make(map[[2]string]int64)
	}
	k := [2]string{j.Kind, j.Key}
	if id, ok := s.jobKeys[k]; ok {
		j.ID = id
		return
	}
	s.nextJob++
	j.ID = s.nextJob
	c := *j
	c.Payload = slices.Clone(j.Payload)
	if c.Created.IsZero() {
		c.Created = c.RunAt
	}
	s.jobs[c.ID] = &jobRec{job: c}
	s.jobKeys[k] = c.ID
}

// ClaimJobs implements store.Outbox.
func (s *Store) ClaimJobs(_ context.Context, kind string, now time.Time, lease time.Duration, limit int) ([]*store.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*jobRec
	for _, r := range s.jobs {
		if r.job.Kind == kind && !r.dead && !r.job.RunAt.After(now) {
			due = append(due, r)
		}
	}
	slices.SortFunc(due, func(a, b *jobRec) int {
		return cmp.Or(a.job.RunAt.Compare(b.job.RunAt), cmp.Compare(a.job.ID, b.job.ID))
	})
	if len(due) > limit {
		due = due[:limit]
	}
	out := make([]*store.Job, 0, len(due))
	for _, r := range due {
		r.job.Attempts++
		r.job.RunAt = now.Add(lease)
		c := r.job
		c.Payload = slices.Clone(r.job.Payload)
		out = append(out, &c)
	}
	return out, nil
}

// CompleteJob implements store.Outbox.
func (s *Store) CompleteJob(_ context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.jobs[id]; ok {
		delete(s.jobKeys, [2]string{r.job.Kind, r.job.Key})
		delete(s.jobs, id)
	}
	return nil
}

// RetryJob implements store.Outbox.
func (s *Store) RetryJob(_ context.Context, id int64, runAt time.Time, lastError string, dead bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.jobs[id]
	if !ok {
		return store.ErrNotFound
	}
	r.job.RunAt, r.job.LastError = runAt, lastError
	r.dead = dead || (!r.job.NotAfter.IsZero() && runAt.After(r.job.NotAfter))
	return nil
}

// DeadJobs implements store.Outbox.
func (s *Store) DeadJobs(_ context.Context, kind string, limit int) ([]*store.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*store.Job
	for _, r := range s.jobs {
		if r.dead && (kind == "" || r.job.Kind == kind) {
			c := r.job
			out = append(out, &c)
		}
	}
	slices.SortFunc(out, func(a, b *store.Job) int { return cmp.Compare(b.ID, a.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
