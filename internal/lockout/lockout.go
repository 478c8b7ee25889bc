// Package lockout is the login failure limit (booking.LoginGuard) on
// ulule/limiter: failed logins are counted per phone in a store the
// instances share (Redis), so the limit holds across instances.
//
// The limit comes in tiers with growing windows: by default 5 failures in
// 15 minutes, then 20 in a day. Past a tier's count, the phone waits for the
// tier's window to end before its password is checked again: a stepped
// backoff that lets a person who mistyped a few times back in quickly, and
// holds a guesser to about 20 guesses a day per phone. A correct password
// resets the count.
package lockout

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ulule/limiter/v3"
)

// Tier is one step of the limit: at most Failures failed logins in Window.
type Tier struct {
	Failures int64
	Window   time.Duration
}

// DefaultTiers: 5 in 15 minutes, 20 in a day.
var DefaultTiers = []Tier{{5, 15 * time.Minute}, {20, 24 * time.Hour}}

// ParseTiers reads tiers written as "5/15m,20/24h".
func ParseTiers(s string) ([]Tier, error) {
	var out []Tier
	for part := range strings.SplitSeq(s, ",") {
		n, w, ok := strings.Cut(strings.TrimSpace(part), "/")
		count, err := strconv.ParseInt(n, 10, 64)
		if !ok || err != nil || count < 1 {
			return nil, fmt.Errorf("login limit %q: want failures/window, e.g. 5/15m", part)
		}
		d, err := time.ParseDuration(w)
		if err != nil || d < time.Second {
			return nil, fmt.Errorf("login limit %q: the window must be a duration of a second or more", part)
		}
		out = append(out, Tier{Failures: count, Window: d})
	}
	if len(out) == 0 {
		return nil, errors.New("login limit: at least one tier")
	}
	return out, nil
}

// Guard counts failed logins per key in a limiter store.
type Guard struct {
	tiers []*limiter.Limiter
	now   func() time.Time
}

// New returns a Guard over store (give each tier its own prefix in a
// shared store: the key carries the tier).
func New(store limiter.Store, tiers []Tier) *Guard {
	g := &Guard{now: time.Now}
	for _, t := range tiers {
		g.tiers = append(g.tiers, limiter.New(store, limiter.Rate{Period: t.Window, Limit: t.Failures}))
	}
	return g
}

func tierKey(i int, key string) string { return "login:" + strconv.Itoa(i) + ":" + key }

// Wait is how long key must wait: until the end of the window of every
// tier whose count is used up.
func (g *Guard) Wait(ctx context.Context, key string) (time.Duration, error) {
	var wait time.Duration
	for i, l := range g.tiers {
		c, err := l.Peek(ctx, tierKey(i, key))
		if err != nil {
			return 0, fmt.Errorf("login limit: %w", err)
		}
		if c.Remaining <= 0 {
			wait = max(wait, time.Unix(c.Reset, 0).Sub(g.now()), time.Second)
		}
	}
	return wait, nil
}

// Failed counts a failed login of key in every tier.
func (g *Guard) Failed(ctx context.Context, key string) error {
	for i, l := range g.tiers {
		if _, err := l.Get(ctx, tierKey(i, key)); err != nil {
			return fmt.Errorf("login limit: %w", err)
		}
	}
	return nil
}

// Succeeded forgets key's failures.
func (g *Guard) Succeeded(ctx context.Context, key string) error {
	for i, l := range g.tiers {
		if _, err := l.Reset(ctx, tierKey(i, key)); err != nil {
			return fmt.Errorf("login limit: %w", err)
		}
	}
	return nil
}
