package booking

import (
	"sync"
	"time"
)

// groupCommit writes items that arrive at the same time in shared batches,
// so a thousand concurrent entries cost a few SQL statements, not a
// thousand. A caller queues its item and waits for its answer. While fewer
// than maxFlushers batches are being written, a waiting caller takes the
// head of the queue (up to maxBatch items) and writes it for everyone in it;
// when done it hands its turn to the next caller still waiting.
//
// It has no goroutine of its own: every batch is written by a caller, so
// there is nothing to start or to stop. write bounds its own time (it must
// not wait for a client); so must after, which with afterKeepsTurn runs in
// a goroutine of its own once every answer of its batch is out, the
// writer's too.
type groupCommit[T any] struct {
	maxBatch, maxFlushers int
	write                 func(items []T) []error // one answer per item
	// after, when set, runs once the batch's answers are delivered:
	// follow-up work nobody needs to wait for. Without afterKeepsTurn it
	// runs in the writing caller's goroutine after the turn to write is
	// handed on, so it never holds back the next batch. With
	// afterKeepsTurn it runs before the turn is handed on — the next batch
	// gathers meanwhile, as it would if after were part of the write, and
	// at most maxFlushers of them run at once — in a goroutine that holds
	// the turn, so the writer's own answer does not wait for it either:
	// in the release second that wait is one more network round trip, and
	// one more turn of the run queue, for every batch's writer.
	after          func(items []T, errs []error)
	afterKeepsTurn bool
	// kind names the rows for metrics ("booking", "entry"); metrics
	// receives each batch (never nil), timed by now.
	kind    string
	metrics CommitMetrics
	now     func() time.Time

	mu       sync.Mutex
	queue    []*gcItem[T]
	flushing int // turns taken or handed on and not yet ended
	// following counts the follow-ups (after, with afterKeepsTurn) still
	// running in goroutines of their own; wait waits for them.
	following sync.WaitGroup
}

type gcItem[T any] struct {
	v         T
	queued    time.Time // when do queued it
	err       error
	answered  time.Time     // when err was set
	done      chan struct{} // closed once err and answered are set
	turn      chan struct{} // a turn to write handed to this caller (buffered: at most one)
	signalled bool          // under mu: turn was sent
}

func newGroupCommit[T any](kind string, maxBatch, maxFlushers int, write func([]T) []error) *groupCommit[T] {
	return &groupCommit[T]{kind: kind, maxBatch: max(1, maxBatch), maxFlushers: max(1, maxFlushers), write: write,
		metrics: noCommitMetrics{}, now: time.Now}
}

// do queues v and returns its answer once its batch is written.
func (g *groupCommit[T]) do(v T) error {
	it := &gcItem[T]{v: v, queued: g.now(), done: make(chan struct{}), turn: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, it)
	lead := g.flushing < g.maxFlushers
	if lead {
		g.flushing++
	}
	g.mu.Unlock()
	if lead {
		g.flush()
	}
	for {
		select {
		case <-it.turn:
			g.flush()
		case <-it.done:
			// A turn handed on while the item was queued must still be
			// taken, or the batches would stall with it.
			select {
			case <-it.turn:
				g.flush()
			default:
			}
			g.metrics.Answered(g.kind, g.now().Sub(it.answered))
			return it.err
		}
	}
}

// flush writes one batch from the head of the queue, records its metrics,
// answers its callers, then hands the turn on (handOn) before the batch's
// follow-up work (after; with afterKeepsTurn, in a goroutine that runs after and
// then hands the turn on, while the writer returns to its own answer).
func (g *groupCommit[T]) flush() {
	g.mu.Lock()
	n := min(len(g.queue), g.maxBatch)
	batch := make([]*gcItem[T], n)
	copy(batch, g.queue)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	g.mu.Unlock()
	var vals []T
	var errs []error
	var waits []time.Duration
	var took time.Duration
	if n > 0 {
		sent := g.now()
		vals, waits = make([]T, n), make([]time.Duration, n)
		for i, it := range batch {
			vals[i], waits[i] = it.v, sent.Sub(it.queued)
		}
		errs = g.write(vals)
		ended := g.now()
		took = ended.Sub(sent)
		// The batch's metrics before its answers: a caller that reads
		// /metrics after its 201 finds its batch there.
		g.metrics.Batch(g.kind, waits, took)
		for i, it := range batch {
			it.err, it.answered = errs[i], ended
			close(it.done)
		}
	}
	after := g.after != nil && n > 0
	if after && g.afterKeepsTurn {
		g.following.Go(func() {
			g.after(vals, errs)
			g.handOn()
		})
		return
	}
	g.handOn()
	if after && !g.afterKeepsTurn {
		g.after(vals, errs)
	}
}

// wait returns once the follow-ups of the batches written so far are done
// (Service.Close: before Redis is closed under them).
func (g *groupCommit[T]) wait() { g.following.Wait() }

// handOn hands the turn to write to a waiting caller, or ends it when
// nobody waits without one.
func (g *groupCommit[T]) handOn() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, it := range g.queue {
		if !it.signalled {
			it.signalled = true
			it.turn <- struct{}{}
			return
		}
	}
	g.flushing--
}
