package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fairslot/internal/booking"
	"fairslot/internal/cowmap"
	"fairslot/internal/httpapi"
)

// lotteryMetrics counts the lottery's outcomes for Prometheus.
type lotteryMetrics struct {
	entries  *prometheus.CounterVec
	screened *prometheus.CounterVec
	draws    *prometheus.CounterVec
	winners  prometheus.Counter
	duration prometheus.Histogram
}

// bookingMetrics is booking.Metrics on Prometheus: every booking committed
// and every refused attempt, whichever adapter asked, or none (a waitlist
// hand-over, a lottery draw).
type bookingMetrics struct {
	bookings, refusals *prometheus.CounterVec
	// byCode holds each reason's counter once resolved: every refused
	// attempt counts here, the release minute's 20,000 a second too, and
	// the vector's own lookup checks, hashes and locks each time. Reasons
	// are error codes, a bounded set.
	byCode *cowmap.Map[string, prometheus.Counter]
}

func newBookingMetrics(reg prometheus.Registerer) booking.Metrics {
	if reg == nil {
		return nil
	}
	m := &bookingMetrics{
		bookings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairslot_bookings_total",
			Help: "Bookings committed in SQL, by channel: through the API, the consoles, the waitlist or a lottery draw (replays are not counted).",
		}, []string{"channel"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairslot_booking_rejections_total",
			Help: "Booking attempts refused by a rule or a conflict, by reason (the error code), on every channel and console.",
		}, []string{"reason"}),
	}
	m.byCode = cowmap.New(func(code string) prometheus.Counter { return m.refusals.WithLabelValues(code) })
	reg.MustRegister(m.bookings, m.refusals)
	return m
}

func (m *bookingMetrics) Booked(ch booking.Channel) { m.bookings.WithLabelValues(string(ch)).Inc() }

func (m *bookingMetrics) Refused(code string) { m.byCode.Get(code).Inc() }

// commitMetrics is booking.CommitMetrics on Prometheus: the group commits'
// batch sizes, each row's wait for its batch, and each batch's write.
type commitMetrics struct {
	rows, wait, write, answer *prometheus.HistogramVec
}

func newCommitMetrics(reg prometheus.Registerer) booking.CommitMetrics {
	if reg == nil {
		return nil
	}
	// The latency buckets are the HTTP histogram's, so a row's wait and its
	// batch's write read against the 201's time.
	latency := []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .15, .2, .25, .5, 1, 2.5}
	m := &commitMetrics{
		rows: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fairslot_group_commit_batch_rows",
			Help:    "Rows in each group commit batch, by kind (booking, entry).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 250},
		}, []string{"kind"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fairslot_group_commit_wait_seconds",
			Help:    "Time a row waited in the group commit's queue, from its admission's end until its batch was taken to be written, by kind.",
			Buckets: latency,
		}, []string{"kind"}),
		write: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fairslot_group_commit_write_seconds",
			Help:    "Time each group commit batch took to write: its SQL statement and, for bookings, the confirm in Redis; by kind.",
			Buckets: latency,
		}, []string{"kind"}),
		answer: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fairslot_group_commit_answer_seconds",
			Help:    "Time from a row's batch being written until its caller had the answer back (a CPU to resume it; for an entry batch's writer, also the entries' confirm in Redis), by kind.",
			Buckets: []float64{.0001, .0005, .001, .002, .005, .01, .025, .05, .1, .15, .2, .25, .5, 1},
		}, []string{"kind"}),
	}
	reg.MustRegister(m.rows, m.wait, m.write, m.answer)
	return m
}

func (m *commitMetrics) Batch(kind string, waits []time.Duration, took time.Duration) {
	m.rows.WithLabelValues(kind).Observe(float64(len(waits)))
	wait := m.wait.WithLabelValues(kind)
	for _, w := range waits {
		wait.Observe(w.Seconds())
	}
	m.write.WithLabelValues(kind).Observe(took.Seconds())
}

func (m *commitMetrics) Answered(kind string, took time.Duration) {
	m.answer.WithLabelValues(kind).Observe(took.Seconds())
}

func newLotteryMetrics(reg prometheus.Registerer) booking.LotteryMetrics {
	if reg == nil {
		return nil
	}
	m := &lotteryMetrics{
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairslot_lottery_entries_total",
			Help: "Lottery entries committed (answered 202), by channel.",
		}, []string{"channel"}),
		screened: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairslot_lottery_screened_entries_total",
			Help: "Lottery entries kept out of a draw: held_out (an open scalper flag, for review) or excluded (blocked or barred).",
		}, []string{"outcome"}),
		draws: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairslot_lottery_draws_total",
			Help: "Lottery draws run by this instance, by outcome (drawn; failed: resumed later; refused: the pool's seed or commitment was changed after it was committed, an alert).",
		}, []string{"outcome"}),
		winners: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fairslot_lottery_winners_total",
			Help: "Entries booked by lottery draws.",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "fairslot_lottery_draw_duration_seconds",
			Help:    "Time from claiming a lottery pool's draw to its end.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
	}
	reg.MustRegister(m.entries, m.screened, m.draws, m.winners, m.duration)
	for _, outcome := range []string{"drawn", "failed", "refused"} {
		m.draws.WithLabelValues(outcome) // at 0 from the start: an alert's increase() needs the series before its first refusal
	}
	return m
}

func (m *lotteryMetrics) Entered(ch booking.Channel) { m.entries.WithLabelValues(string(ch)).Inc() }

func (m *lotteryMetrics) Screened(status string, n int) {
	m.screened.WithLabelValues(status).Add(float64(n))
}

func (m *lotteryMetrics) Drawn(d time.Duration, winners int, err error) {
	if errors.Is(err, booking.ErrDrawRefused) {
		// Someone changed the pool's row after its seed was committed: an
		// alert, not a retry (docs/operations.md "A lottery draw refused").
		m.draws.WithLabelValues("refused").Inc()
		return
	}
	if err != nil {
		m.draws.WithLabelValues("failed").Inc()
		return
	}
	m.draws.WithLabelValues("drawn").Inc()
	m.winners.Add(float64(winners))
	m.duration.Observe(d.Seconds())
}

const lotteryUsage = `usage: fairslot lottery <command> [flags]

commands:
  entries  write a session's published draws (seed, commitment, every entry's request id, place and outcome) as JSON: --session ID [--out FILE]
  verify   compute a session's draws again from the seed and the entries, and compare with the bookings made: --session ID [--entries FILE]
           (exit status 0 when they match, 1 otherwise)
`

func lotteryCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, lotteryUsage)
		return errUsage
	}
	switch args[0] {
	case "entries":
		return lotteryEntries(ctx, args[1:], getenv, stdout, stderr)
	case "verify":
		return lotteryVerify(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, lotteryUsage)
		return errHelp
	}
	fmt.Fprintf(stderr, "unknown lottery command %q\n\n%s", args[0], lotteryUsage)
	return errUsage
}

// publishedDraws reads a session's draws as anyone may read them.
func publishedDraws(ctx context.Context, d *deps, sessionID string) ([]booking.PublishedDraw, error) {
	if _, err := d.svc.Refresh(ctx); err != nil {
		return nil, err
	}
	return d.svc.LotteryDraws(ctx, booking.Actor{}, sessionID)
}

func lotteryEntries(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var session, out string
	return tool{
		name: "lottery entries",
		flags: func(fs *flag.FlagSet, _ env) {
			fs.StringVar(&session, "session", "", "the session id (required)")
			fs.StringVar(&out, "out", "-", "where to write the draws (- for standard output)")
		},
		check: func() error {
			if session == "" {
				return errors.New("--session is required")
			}
			return nil
		},
		work: func(ctx context.Context, d *deps) error {
			ds, err := publishedDraws(ctx, d, session)
			if err != nil {
				return err
			}
			loc := sessionLocation(d, session)
			views := make([]httpapi.DrawOut, len(ds))
			for i, x := range ds {
				views[i] = httpapi.DrawView(x, loc)
			}
			b, err := json.MarshalIndent(views, "", "  ")
			if err != nil {
				return err
			}
			b = append(b, '\n')
			if out == "-" {
				_, err = stdout.Write(b)
				return err
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "wrote %d draws of session %s to %s\n", len(ds), session, out)
			return nil
		},
	}.run(ctx, args, getenv, stderr)
}

// sessionLocation is the zone of a session's hospital: times are written
// there, with the offset, as the API's public record has them (review15
// L7 read UTC here).
func sessionLocation(d *deps, session string) *time.Location {
	cat := d.svc.Catalog()
	if sess, ok := cat.Session(session); ok {
		if h, ok := cat.Hospital(sess.HospitalID); ok {
			return h.Location()
		}
	}
	return booking.StandInLocation()
}

func lotteryVerify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var session, file string
	return tool{
		name: "lottery verify",
		flags: func(fs *flag.FlagSet, _ env) {
			fs.StringVar(&session, "session", "", "the session id (required)")
			fs.StringVar(&file, "entries", "", "a file written by `fairslot lottery entries` (default: read the draws from the database)")
		},
		check: func() error {
			if session == "" {
				return errors.New("--session is required")
			}
			return nil
		},
		work: func(ctx context.Context, d *deps) error {
			stored, err := publishedDraws(ctx, d, session)
			if err != nil {
				return err
			}
			draws := stored
			if file != "" {
				if draws, err = readDraws(file); err != nil {
					return err
				}
			}
			loc := sessionLocation(d, session)
			committed := map[booking.Channel]booking.DrawRecord{}
			stoppedAt := map[booking.Channel]booking.PublishedDraw{}
			for _, x := range stored {
				committed[x.Channel] = x.DrawRecord
				if !x.StoppedAt.IsZero() {
					stoppedAt[x.Channel] = x
				}
			}
			failed, waiting := 0, 0
			// When the pool's rules became public is the database's word,
			// as its commitment is: the notice before its window.
			published := func(x booking.PublishedDraw) {
				var st booking.PublishedDraw
				for _, y := range stored {
					if y.Channel == x.Channel {
						st = y
					}
				}
				if st.PublishedAt.IsZero() {
					fmt.Fprintf(stdout, "     published: not known (before release 0069 kept it)\n")
					return
				}
				fmt.Fprintf(stdout, "     published %s, %s before its window at %s\n",
					st.PublishedAt.In(loc).Format(time.RFC3339), st.OpensAt.Sub(st.PublishedAt).Round(time.Minute), st.OpensAt.In(loc).Format(time.RFC3339))
			}
			for _, x := range draws {
				// Whether the clinic was stopped is the database's word,
				// whatever a file says.
				if st, ok := stoppedAt[x.Channel]; ok && st.Status == booking.DrawStopped && x.SessionID == session {
					fmt.Fprintf(stdout, "stop %s pool of session %s: the clinic was stopped at %s, before its draw at %s; its entries were withdrawn and no draw was made or needed (its seed stays sealed; commitment %x)\n",
						x.Channel, session, st.StoppedAt.In(loc).Format(time.RFC3339), st.DrawAt.In(loc).Format(time.RFC3339), st.Commitment)
					continue
				}
				err := verifyOne(ctx, d, session, x, committed)
				if errors.Is(err, booking.ErrNotDrawn) {
					waiting++
					fmt.Fprintf(stdout, "wait %s pool of session %s: %v; its commitment %x is published\n", x.Channel, session, err, x.Commitment)
					published(x)
					continue
				}
				if err != nil {
					failed++
					fmt.Fprintf(stdout, "FAIL %s pool of session %s: %v\n", x.Channel, session, err)
					continue
				}
				fmt.Fprintf(stdout, "ok   %s pool of session %s: seed %x matches its commitment (recipe v%d); %d winners of %d eligible entries (%d slots) are exactly the bookings made\n",
					x.Channel, session, x.Seed, committed[x.Channel].Recipe, x.Winners, x.Eligible, x.Slots)
				published(x)
				if st, ok := stoppedAt[x.Channel]; ok {
					fmt.Fprintf(stdout, "     the clinic was stopped at %s, after the draw: its bookings were cancelled, not a no-show\n", st.StoppedAt.In(loc).Format(time.RFC3339))
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d draws do not verify", failed, len(draws))
			}
			if len(draws) == 0 {
				return errors.New("no draw to verify")
			}
			if waiting > 0 {
				// Not a failure: run it again after the draw.
				return &exitError{code: 2, err: fmt.Errorf("%d of %d draws not drawn yet", waiting, len(draws))}
			}
			return nil
		},
	}.run(ctx, args, getenv, stderr)
}

// verifyOne checks one draw: it belongs to the session, its commitment is
// the one published in the database, and its winners are the bookings.
func verifyOne(ctx context.Context, d *deps, session string, x booking.PublishedDraw, committed map[booking.Channel]booking.DrawRecord) error {
	if x.SessionID != session {
		return fmt.Errorf("the file's draw is of session %s", x.SessionID)
	}
	c, ok := committed[x.Channel]
	if !ok || string(c.Commitment) != string(x.Commitment) {
		return fmt.Errorf("the commitment %x is not the one published (%x)", x.Commitment, c.Commitment)
	}
	// The recipe is the database's word, as the commitment is: a file
	// written before records said it (no commitment_recipe) takes it; a
	// file that says another is refused, never read both ways.
	if x.Recipe != 0 && x.Recipe != c.Recipe {
		return fmt.Errorf("the file's commitment recipe v%d is not the one published (v%d)", x.Recipe, c.Recipe)
	}
	x.Recipe = c.Recipe
	ids := make([]string, 0, len(x.Entries))
	for _, e := range x.Entries {
		if booking.IsUUID(e.ID) {
			ids = append(ids, e.ID)
		}
	}
	// A seed is made for one pool: a commitment or seed another pool also
	// holds was copied there (review20 H1), and the draw it verifies
	// against could have been known before it ran.
	if len(x.Seed) > 0 || len(x.Commitment) > 0 {
		others, err := d.store.PoolsSharingSeed(ctx, booking.PoolKey{SessionID: session, Channel: x.Channel}, x.Commitment, x.Seed)
		if err != nil {
			return err
		}
		if len(others) > 0 {
			return fmt.Errorf("the seed or its commitment %x is also the %s pool's of session %s (%d pools in all): a seed is made for one pool, this one was copied",
				x.Commitment, others[0].Channel, others[0].SessionID, len(others)+1)
		}
	}
	st, err := d.store.BookingStatuses(ctx, ids)
	if err != nil {
		return err
	}
	booked := make(map[string]bool, len(st))
	for id := range st {
		booked[id] = true
	}
	return booking.VerifyDraw(x, booked)
}

func readDraws(path string) ([]booking.PublishedDraw, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var views []httpapi.DrawOut
	if err := json.Unmarshal(b, &views); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]booking.PublishedDraw, len(views))
	for i, v := range views {
		if out[i], err = httpapi.ParseDraw(v); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return out, nil
}
