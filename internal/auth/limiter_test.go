package auth

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// limiterKey builds a key the way the HTTP layer does: source address and credential prefix.
func limiterKey(addr, prefix string) string { return addr + "|" + prefix }

// newTestLimiter returns a limiter at the default threshold whose clock the test moves.
func newTestLimiter() (*FailureLimiter, *time.Time) {
	f := NewFailureLimiter(DefaultFailuresPerMinute)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	f.now = func() time.Time { return now }
	return f, &now
}

func TestFailureLimiterBlocksAfterThreshold(t *testing.T) {
	f, now := newTestLimiter()
	key := limiterKey("203.0.113.7", "scim_abcdef")

	for i := range DefaultFailuresPerMinute {
		if blocked, wait := f.Blocked(key); blocked {
			t.Fatalf("blocked after %d failures (wait %v), want the first %d to pass", i, wait, DefaultFailuresPerMinute)
		}
		f.Fail(key)
	}
	blocked, wait := f.Blocked(key)
	if !blocked {
		t.Fatalf("not blocked after %d failures", DefaultFailuresPerMinute)
	}
	// One failure is refilled every two seconds at 30 a minute.
	if wait != 2*time.Second {
		t.Errorf("wait = %v, want 2s", wait)
	}

	t.Run("a different credential prefix from the same address is not blocked", func(t *testing.T) {
		if blocked, _ := f.Blocked(limiterKey("203.0.113.7", "scim_zyxwvu")); blocked {
			t.Error("blocked")
		}
	})
	t.Run("the same credential prefix from another address is not blocked", func(t *testing.T) {
		if blocked, _ := f.Blocked(limiterKey("198.51.100.9", "scim_abcdef")); blocked {
			t.Error("blocked")
		}
	})
	t.Run("halfway to the refill the key is still blocked, for the remaining second", func(t *testing.T) {
		*now = now.Add(time.Second)
		blocked, wait := f.Blocked(key)
		if !blocked || wait != time.Second {
			t.Errorf("Blocked = %v, %v; want true, 1s", blocked, wait)
		}
	})
	t.Run("once the wait has passed the key is unblocked", func(t *testing.T) {
		*now = now.Add(time.Second)
		if blocked, wait := f.Blocked(key); blocked {
			t.Errorf("still blocked, wait %v", wait)
		}
	})
	t.Run("the refill allows one more failure, not another burst", func(t *testing.T) {
		f.Fail(key)
		if blocked, _ := f.Blocked(key); !blocked {
			t.Error("not blocked after the one refilled failure was used")
		}
	})
	t.Run("after a minute the whole burst is available again", func(t *testing.T) {
		*now = now.Add(time.Minute)
		for i := range DefaultFailuresPerMinute {
			if blocked, _ := f.Blocked(key); blocked {
				t.Fatalf("blocked after %d failures", i)
			}
			f.Fail(key)
		}
		if blocked, _ := f.Blocked(key); !blocked {
			t.Error("not blocked after a second burst")
		}
	})
}

func TestNewFailureLimiterThreshold(t *testing.T) {
	tests := []struct {
		name      string
		perMinute int
		every     time.Duration
		burst     int
	}{
		{"zero means the documented default of 30 a minute", 0, 2 * time.Second, 30},
		{"a negative value means the default too", -5, 2 * time.Second, 30},
		{"60 a minute refills one failure a second", 60, time.Second, 60},
		{"the documented default is 30 a minute, the floor DESIGN.md sets", DefaultFailuresPerMinute, 2 * time.Second, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFailureLimiter(tt.perMinute)
			if f.every != tt.every || f.burst != tt.burst {
				t.Errorf("every, burst = %v, %d; want %v, %d", f.every, f.burst, tt.every, tt.burst)
			}
		})
	}
}

func TestFailureLimiterUnknownKeyIsNotBlocked(t *testing.T) {
	f, _ := newTestLimiter()
	if blocked, wait := f.Blocked(limiterKey("203.0.113.7", "pk-org-abc")); blocked || wait != 0 {
		t.Errorf("Blocked = %v, %v; want false, 0", blocked, wait)
	}
	if len(f.keys) != 0 {
		t.Errorf("asking about a key stored it: %d keys", len(f.keys))
	}
}

func TestFailureLimiterEviction(t *testing.T) {
	t.Run("a spray of distinct keys never holds more than maxLimiterKeys", func(t *testing.T) {
		t.Parallel()
		f, _ := newTestLimiter()
		for i := range maxLimiterKeys + 1000 {
			f.Fail(limiterKey(strconv.Itoa(i), "pk-org-"))
			if len(f.keys) > maxLimiterKeys {
				t.Fatalf("%d keys after %d distinct failures, want at most %d", len(f.keys), i+1, maxLimiterKeys)
			}
		}
	})
	t.Run("refilled keys are evicted first and a blocked key survives", func(t *testing.T) {
		t.Parallel()
		f, now := newTestLimiter()
		for i := range maxLimiterKeys - 1 {
			f.Fail(limiterKey(strconv.Itoa(i), "scim_abcdef"))
		}
		*now = now.Add(time.Minute) // every bucket so far has refilled
		blockedKey := limiterKey("203.0.113.7", "scim_abcdef")
		for range DefaultFailuresPerMinute {
			f.Fail(blockedKey)
		}
		f.Fail("one more") // the map is full: this evicts
		if len(f.keys) != 2 {
			t.Errorf("%d keys after eviction, want 2 (the blocked key and the new one)", len(f.keys))
		}
		if blocked, _ := f.Blocked(blockedKey); !blocked {
			t.Error("eviction unblocked a key that had used up its failures")
		}
	})
}

func TestFailureLimiterIsSafeForConcurrentUse(t *testing.T) {
	f := NewFailureLimiter(DefaultFailuresPerMinute)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				key := limiterKey(fmt.Sprintf("192.0.2.%d", g), fmt.Sprintf("scim_%d", i%5))
				f.Blocked(key)
				f.Fail(key)
			}
		})
	}
	wg.Wait()
	if len(f.keys) != 8*5 {
		t.Errorf("%d keys, want %d", len(f.keys), 8*5)
	}
}
