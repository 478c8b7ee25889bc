package ratelimit

import (
	"log/slog"
	"sync"
	"time"
)

// Failures logs the failures of a limiter's store (Redis down) without
// flooding the log: the service fails open then, so every request fails
// the same way — at the release hour tens of thousands a second, each
// line with the stack ulule's wrapped errors print under slog's %+v. The
// first failure is logged at once; after it, at most one line each
// interval, saying how many requests were let through since. The error is
// logged by its message only. The failures are counted one by one in the
// metrics, not here.
type Failures struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu     sync.Mutex
	last   time.Time // of the last line; zero: none yet
	missed int       // failures since, not logged
}

// NewFailures logs a store's failures on log, at most one line per every.
func NewFailures(log *slog.Logger, every time.Duration) *Failures {
	return &Failures{log: log, every: every, now: time.Now}
}

// LetThrough notes one request let through because the store failed
// with err.
func (f *Failures) LetThrough(err error) {
	now := f.now()
	f.mu.Lock()
	if !f.last.IsZero() && now.Sub(f.last) < f.every {
		f.missed++
		f.mu.Unlock()
		return
	}
	missed := f.missed
	f.last, f.missed = now, 0
	f.mu.Unlock()
	f.log.Warn("rate limiter unavailable; requests let through", "err", err.Error(), "since_last_line", missed)
}
