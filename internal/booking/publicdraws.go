package booking

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// publicDraws keeps what anyone may read of a session's lottery draws
// (GET /v1/lottery/sessions/{id}, no login) for a short while, so that the
// page everyone reloads while a pool takes entries costs PostgreSQL one read
// a session per PublicDrawsFor on each instance, not one per request. Before
// it, each anonymous request counted the pool's live entries in SQL (and,
// once drawn, read every entry): one client per IP, at the 50 a second the
// IP limit lets through, over 100,000 entries kept ~0.27 of a core of
// PostgreSQL busy, and 16 addresses saturated it (docs/performance.md,
// "Public reads").
//
// An entry is valid while the catalog it was read under is still the one in
// use and for PublicDrawsFor after it was read (the Service's clock). A seed
// committed, a draw finished, a session stopped or changed all reload the
// catalog on the instance that did it (and on the others at their catalog
// watch), so those show at once there; what may lag by up to PublicDrawsFor
// is the count of entries so far, and a draw finished by another instance.
// Concurrent misses for one session share one read (singleflight). The
// draws returned are shared between callers: read them, never change them.
type publicDraws struct {
	mu    sync.Mutex
	byID  map[string]publicDrawsEntry
	group singleflight.Group
}

type publicDrawsEntry struct {
	cat   *Catalog
	until time.Time
	draws []PublishedDraw
}

func newPublicDraws() *publicDraws {
	return &publicDraws{byID: map[string]publicDrawsEntry{}}
}

// get returns the session's kept draws if they are still valid under cat at
// now, or reads them with read and keeps them for ttl.
func (p *publicDraws) get(ctx context.Context, cat *Catalog, sessionID string, now time.Time, ttl time.Duration,
	read func(context.Context) ([]PublishedDraw, error)) ([]PublishedDraw, error) {
	p.mu.Lock()
	e, ok := p.byID[sessionID]
	p.mu.Unlock()
	if ok && e.cat == cat && now.Before(e.until) {
		return e.draws, nil
	}
	v, err, _ := p.group.Do(sessionID, func() (any, error) {
		// The read is shared: one caller hanging up must not fail the
		// others waiting on it.
		ds, err := read(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err // never kept: the next request reads again
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		// Drop what has lapsed, so the map holds at most the sessions read
		// in the last ttl (each a lottery session of the catalog).
		for id, old := range p.byID {
			if old.cat != cat || !now.Before(old.until) {
				delete(p.byID, id)
			}
		}
		p.byID[sessionID] = publicDrawsEntry{cat: cat, until: now.Add(ttl), draws: ds}
		return ds, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]PublishedDraw), nil
}
