package webhook

import (
	"context"
	"time"
)

// ClaimState is the outcome of DedupStore.Claim.
type ClaimState int

const (
	// ClaimOwned: the key was free (never seen, or its lease or record has
	// expired) and the caller now holds it. It must process the message and
	// then call Complete, or Release to give the key up.
	ClaimOwned ClaimState = iota + 1
	// ClaimPending: another delivery holds the key and has not completed;
	// the caller should wait and Claim again.
	ClaimPending
	// ClaimDone: the key was completed; Claim.Reply is the reply recorded
	// by Complete.
	ClaimDone
)

// String returns "owned", "pending" or "done".
func (s ClaimState) String() string {
	switch s {
	case ClaimOwned:
		return "owned"
	case ClaimPending:
		return "pending"
	case ClaimDone:
		return "done"
	}
	return "invalid"
}

// Claim is what DedupStore.Claim found under a key.
type Claim struct {
	State ClaimState
	// Reply is the plaintext passive-reply XML stored by Complete when
	// State is ClaimDone; empty means the first delivery answered "success".
	Reply []byte
}

// DedupStore remembers which deliveries of a push have been processed, so
// that WeChat's retries (the same MsgId, or FromUserName+CreateTime+Event,
// redelivered when no answer came within 5 s) neither run the Handler again
// nor get a different answer. Keys are message.Message.DedupKey values; a
// store may prefix them.
//
// A key moves through three states: absent → pending (Claim by the first
// delivery, for at most the lease ttl) → done (Complete, holding the reply
// for ttl) → absent again on expiry. Implementations must be safe for
// concurrent use, and processes sharing one backing store (a Redis, an
// SQLite file) must see each other's claims: exactly one concurrent Claim of
// an absent key gets ClaimOwned. Every method honours ctx.
//
// Implementations in this module: MemoryDedup (one process) and, for many
// processes, the store of an SQLite file, (*store/sqlite.DB).Dedup (which
// keeps claims in memory while its process is the only one using the file
// for dedup, and in the file while several are), and store/redis.NewDedup.
// The conformance suite is webhooktest.TestDedupStore.
type DedupStore interface {
	// Claim takes key for processing if it is absent (or expired), with a
	// lease of ttl after which another Claim may take it over (the holder
	// crashed). Otherwise it reports the key as pending or done.
	Claim(ctx context.Context, key string, ttl time.Duration) (Claim, error)
	// Complete marks key done with reply (nil or empty for "success") and
	// keeps it for ttl. It is called by the holder of the claim.
	Complete(ctx context.Context, key string, reply []byte, ttl time.Duration) error
	// Release deletes a pending key so that the next delivery processes the
	// message afresh (used when the answer could not be made durable, e.g.
	// the Recorder failed). Releasing a done or absent key does nothing.
	Release(ctx context.Context, key string) error
}

// DedupWaiter is an optional interface of a DedupStore that can block until
// a pending key is completed, released or expired, instead of the Server
// polling Claim. Wait returns the state after the change: ClaimDone with the
// reply, or ClaimOwned if the caller has taken the key over; it returns
// ctx's error when ctx ends first.
type DedupWaiter interface {
	Wait(ctx context.Context, key string, ttl time.Duration) (Claim, error)
}
