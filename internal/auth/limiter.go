package auth

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// FailureLimiter throttles failed authentication per (source address, credential prefix):
// a burst of Burst failures, then one every Every. The key includes the credential prefix so
// that one tenant's stale token behind a shared egress address never throttles another
// tenant. Limits are per process: N replicas allow N times the rate.
type FailureLimiter struct {
	every time.Duration
	burst int
	now   func() time.Time

	mu   sync.Mutex
	keys map[string]*rate.Limiter
}

// DefaultFailuresPerMinute is the documented threshold: 30 failures a minute (a burst of 30,
// refilled at one every two seconds) per source address and credential prefix.
const DefaultFailuresPerMinute = 30

// maxLimiterKeys bounds memory under a spray of distinct keys; full buckets are evicted first.
const maxLimiterKeys = 100_000

// NewFailureLimiter allows perMinute failures a minute per key.
func NewFailureLimiter(perMinute int) *FailureLimiter {
	if perMinute <= 0 {
		perMinute = DefaultFailuresPerMinute
	}
	return &FailureLimiter{
		every: time.Minute / time.Duration(perMinute),
		burst: perMinute,
		now:   time.Now,
		keys:  map[string]*rate.Limiter{},
	}
}

// Blocked reports whether key has used up its failures, and for how long it stays blocked.
func (f *FailureLimiter) Blocked(key string) (bool, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.keys[key]
	if !ok {
		return false, 0
	}
	now := f.now()
	if tokens := l.TokensAt(now); tokens < 1 {
		wait := time.Duration(math.Ceil((1-tokens)*float64(f.every)/float64(time.Second))) * time.Second
		return true, wait
	}
	return false, 0
}

// Fail records one failure for key.
func (f *FailureLimiter) Fail(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.keys[key]
	if !ok {
		if len(f.keys) >= maxLimiterKeys {
			f.evict()
		}
		l = rate.NewLimiter(rate.Every(f.every), f.burst)
		f.keys[key] = l
	}
	l.AllowN(f.now(), 1)
}

// evict drops keys whose buckets have refilled, or half the map if none has.
func (f *FailureLimiter) evict() {
	now := f.now()
	for k, l := range f.keys {
		if l.TokensAt(now) >= float64(f.burst) {
			delete(f.keys, k)
		}
	}
	if len(f.keys) < maxLimiterKeys {
		return
	}
	n := 0
	for k := range f.keys {
		delete(f.keys, k)
		if n++; n >= maxLimiterKeys/2 {
			break
		}
	}
}
