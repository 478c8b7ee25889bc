package booking_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"fairslot/internal/booking"
)

// memLeases is booking.Leases in memory, with a clock the example moves.
type memLeases struct {
	mu     sync.Mutex
	now    time.Time
	leases map[string]struct {
		holder  string
		expires time.Time
	}
}

func (m *memLeases) Claim(_ context.Context, job, holder string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.leases[job]
	if ok && l.holder != holder && m.now.Before(l.expires) {
		return false, nil
	}
	l.holder, l.expires = holder, m.now.Add(ttl)
	m.leases[job] = l
	return true, nil
}

func (m *memLeases) Release(_ context.Context, job, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leases[job].holder == holder {
		delete(m.leases, job)
	}
	return nil
}

// Where a lease plugs into a job runner: at each tick, a job runs only on
// the instance that holds its lease. Two instances tick the sweeper (every
// 5 s) for a minute; the first holds the lease and runs every tick; it
// stops, and the second takes over once the lease (15 s) has expired.
func ExampleJobLease() {
	store := &memLeases{now: time.Unix(0, 0), leases: map[string]struct {
		holder  string
		expires time.Time
	}{}}
	a := booking.JobLease{Leases: store, Holder: "instance-a"}
	b := booking.JobLease{Leases: store, Holder: "instance-b"}
	const every = 5 * time.Second
	runs := map[string]int{}
	ctx := context.Background()
	for tick := 0; tick < 12; tick++ {
		for _, inst := range []booking.JobLease{a, b} {
			if tick >= 6 && inst.Holder == "instance-a" {
				continue // instance a has stopped
			}
			if due, _ := inst.Due(ctx, "sweeper", every); due {
				runs[inst.Holder]++ // here the runner calls s.Sweep(ctx)
			}
		}
		store.now = store.now.Add(every)
	}
	fmt.Println("lease lasts", booking.LeaseTTL(every))
	fmt.Printf("a ran %d ticks, b %d (from the tick its lease expired, 15 s after a's last)\n", runs["instance-a"], runs["instance-b"])
	// Output:
	// lease lasts 15s
	// a ran 6 ticks, b 4 (from the tick its lease expired, 15 s after a's last)
}
