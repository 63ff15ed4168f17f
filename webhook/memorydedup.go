package webhook

import (
	"context"
	"sync"
	"time"
)

// DefaultMemoryDedupSize is the number of keys a MemoryDedup keeps when
// MaxEntries is zero: at 10 000 messages a minute and a 5-minute TTL that
// is comfortably more than the live keys.
const DefaultMemoryDedupSize = 100_000

// DefaultMemoryDedupBytes is the memory a MemoryDedup may hold for its keys
// and replies when MaxBytes is zero (32 MiB): about 40 000 keys with
// 600-byte replies. WeChat retries a push within about 15 s, so the keys
// dropped first (the oldest) are the least likely to be asked again.
const DefaultMemoryDedupBytes = 32 << 20

// entryOverhead approximates the memory of one key beyond its bytes (map
// slot, entry, queue slot).
const entryOverhead = 96

// MemoryDedup is a DedupStore in process memory, for a single instance. It
// holds at most MaxEntries keys (DefaultMemoryDedupSize when zero) and
// MaxBytes of keys and replies (DefaultMemoryDedupBytes when zero; each key
// counts its length, its reply's and entryOverhead bytes), dropping the
// oldest claims first when over either bound, and forgets a key when its
// ttl has passed. It implements DedupWaiter, so a retry waiting for the
// first delivery wakes as soon as that completes. The zero value is ready
// to use; Now, when set, replaces time.Now (for tests). Do not copy a
// MemoryDedup after first use.
type MemoryDedup struct {
	MaxEntries int
	MaxBytes   int64
	Now        func() time.Time

	mu      sync.Mutex
	entries map[string]dedupEntry
	queue   []queued // claim order, oldest at head
	head    int
	gen     uint64
	bytes   int64 // held by entries (see entryOverhead)
}

// dedupEntry is stored by value: no allocation per key beyond the map's.
type dedupEntry struct {
	gen     uint64 // identifies this claim in the queue
	done    bool
	reply   []byte
	expires time.Time
	wake    chan struct{} // closed when the entry leaves the pending state; nil until a waiter needs it
}

type queued struct {
	key string
	gen uint64
}

var _ DedupWaiter = (*MemoryDedup)(nil)

func (d *MemoryDedup) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *MemoryDedup) max() int {
	if d.MaxEntries > 0 {
		return d.MaxEntries
	}
	return DefaultMemoryDedupSize
}

func (d *MemoryDedup) maxBytes() int64 {
	if d.MaxBytes > 0 {
		return d.MaxBytes
	}
	return DefaultMemoryDedupBytes
}

func entrySize(key string, reply []byte) int64 { return int64(len(key)+len(reply)) + entryOverhead }

// Claim implements DedupStore.
func (d *MemoryDedup) Claim(ctx context.Context, key string, ttl time.Duration) (Claim, error) {
	if err := ctx.Err(); err != nil {
		return Claim{}, err
	}
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.claimLocked(key, ttl, now), nil
}

func (d *MemoryDedup) claimLocked(key string, ttl time.Duration, now time.Time) Claim {
	if e, ok := d.entries[key]; ok && now.Before(e.expires) {
		if e.done {
			return Claim{State: ClaimDone, Reply: e.reply}
		}
		return Claim{State: ClaimPending}
	} else if ok {
		d.drop(key, e)
	}
	d.insert(key, dedupEntry{expires: now.Add(ttl)}, now)
	return Claim{State: ClaimOwned}
}

// insert stores a new claim of key and evicts what has to go.
func (d *MemoryDedup) insert(key string, e dedupEntry, now time.Time) {
	if d.entries == nil {
		d.entries = make(map[string]dedupEntry)
	}
	d.gen++
	e.gen = d.gen
	d.entries[key] = e
	d.bytes += entrySize(key, e.reply)
	d.queue = append(d.queue, queued{key, e.gen})
	d.evict(now)
}

// drop removes key and wakes its waiters. The queue keeps its slot until
// evict pops it.
func (d *MemoryDedup) drop(key string, e dedupEntry) {
	delete(d.entries, key)
	d.bytes -= entrySize(key, e.reply)
	if e.wake != nil {
		close(e.wake)
	}
}

// evict pops expired entries, and the oldest ones while over capacity, from
// the head of the queue.
func (d *MemoryDedup) evict(now time.Time) {
	for d.head < len(d.queue) {
		q := d.queue[d.head]
		e, live := d.entries[q.key]
		live = live && e.gen == q.gen
		if live && len(d.entries) <= d.max() && d.bytes <= d.maxBytes() && now.Before(e.expires) {
			break
		}
		if live {
			d.drop(q.key, e)
		}
		d.queue[d.head] = queued{}
		d.head++
	}
	if d.head > 1024 && d.head*2 > len(d.queue) {
		n := copy(d.queue, d.queue[d.head:])
		clear(d.queue[n:])
		d.queue = d.queue[:n]
		d.head = 0
	}
}

// Complete implements DedupStore. The reply is copied.
func (d *MemoryDedup) Complete(ctx context.Context, key string, reply []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var cp []byte
	if len(reply) > 0 {
		cp = append([]byte(nil), reply...)
	}
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.entries[key]
	if !ok {
		d.insert(key, dedupEntry{done: true, reply: cp, expires: now.Add(ttl)}, now)
		return nil
	}
	if e.wake != nil {
		close(e.wake)
	}
	d.bytes += int64(len(cp) - len(e.reply))
	e.done, e.reply, e.expires, e.wake = true, cp, now.Add(ttl), nil
	d.entries[key] = e
	d.evict(now)
	return nil
}

// Release implements DedupStore.
func (d *MemoryDedup) Release(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.entries[key]; ok && !e.done {
		d.drop(key, e)
	}
	return nil
}

// Wait implements DedupWaiter: it blocks until key is completed (ClaimDone),
// or released or expired, in which case it claims the key with lease ttl
// (ClaimOwned); it returns ctx.Err() if ctx ends first.
func (d *MemoryDedup) Wait(ctx context.Context, key string, ttl time.Duration) (Claim, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Claim{}, err
		}
		now := d.now()
		d.mu.Lock()
		c := d.claimLocked(key, ttl, now)
		if c.State != ClaimPending {
			d.mu.Unlock()
			return c, nil
		}
		e := d.entries[key]
		if e.wake == nil {
			e.wake = make(chan struct{})
			d.entries[key] = e
		}
		wake, left := e.wake, e.expires.Sub(now)
		d.mu.Unlock()

		t := time.NewTimer(left)
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
}

// Len returns the number of keys held, expired ones included until they are
// swept.
func (d *MemoryDedup) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.entries)
}

// Bytes returns the memory the keys and replies hold, as counted against
// MaxBytes.
func (d *MemoryDedup) Bytes() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.bytes
}

// Range calls f for each unexpired key, oldest claim first, until f
// returns false: done reports whether the key is completed (with reply), else
// it is pending. f must not call the MemoryDedup.
func (d *MemoryDedup) Range(f func(key string, done bool, reply []byte, expires time.Time) bool) {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, q := range d.queue[d.head:] {
		e, ok := d.entries[q.key]
		if !ok || e.gen != q.gen || !now.Before(e.expires) {
			continue
		}
		if !f(q.key, e.done, e.reply, e.expires) {
			return
		}
	}
}
