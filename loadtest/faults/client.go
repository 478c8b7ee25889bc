package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fairslot/internal/booking"
)

// The booking client: a paced mix of online, phone and desk bookings,
// cancellations and waitlist joins, each retried with its Idempotency-Key
// until it gets a definite answer, every request and answer written to a
// history the checker reads.

// Event is one request and its answer.
type Event struct {
	T         float64 `json:"t"`  // seconds from the start of the load, when the request was sent
	Op        string  `json:"op"` // book (online), phone, desk, cancel, waitlist
	Key       string  `json:"key"`
	Try       int     `json:"try"` // 0 the first request, then the retries
	Instance  string  `json:"instance"`
	Status    int     `json:"status"` // 0: no answer
	Code      string  `json:"code,omitempty"`
	Message   string  `json:"message,omitempty"`
	Err       string  `json:"err,omitempty"`
	SessionID string  `json:"session_id,omitempty"`
	BookingID string  `json:"booking_id,omitempty"`
	Slot      int     `json:"slot,omitempty"`
	MS        float64 `json:"ms"`
}

// booking reports an answer that confirmed a booking.
func (e Event) booking() bool {
	return e.Status == 201 && (e.Op == "book" || e.Op == "phone" || e.Op == "desk")
}

// History is the record of a run, safe for many goroutines.
type History struct {
	start  time.Time
	mu     sync.Mutex
	events []Event
}

func (h *History) add(e Event) {
	h.mu.Lock()
	h.events = append(h.events, e)
	h.mu.Unlock()
}

// Events returns a copy of the record.
func (h *History) Events() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Event(nil), h.events...)
}

// since is the offset of t from the start of the load.
func (h *History) since(t time.Time) float64 { return t.Sub(h.start).Seconds() }

// Person is someone booked for: a patient on an account (online), or a
// caller or walk-in known by ID (phone, desk).
type Person struct {
	Token     string // the account's bearer token (online)
	PatientID string
	IDNumber  string
	Name      string
}

// Load is the traffic of one run.
type Load struct {
	Attempts  int     // booking attempts (online, phone, desk)
	Rate      float64 // operations per second
	Sessions  []string
	Patients  []Person
	Callers   []Person // booked by phone
	WalkIns   []Person // booked at the desk
	Operator  string   // token
	Clerk     string   // token
	Instances func() []string
	Seed      uint64
	// RetryFor bounds the retries of one operation.
	RetryFor time.Duration
}

type client struct {
	load Load
	hist *History
	http *http.Client
	rng  *rand.Rand
	rmu  sync.Mutex
	next atomic.Int64 // round-robin over the instances

	mu     sync.Mutex
	booked []bookedRef // online bookings answered 201, not cancelled yet
}

type bookedRef struct {
	token, id string
}

// Run sends the load, paced, and returns its history once every operation
// has its answer or gave up.
func (l Load) Run(ctx context.Context) *History {
	c := &client{load: l, hist: &History{start: time.Now()}, rng: rand.New(rand.NewPCG(l.Seed, 7)),
		http: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	if c.load.RetryFor <= 0 {
		c.load.RetryFor = 40 * time.Second
	}
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Duration(float64(time.Second) / l.Rate))
	defer tick.Stop()
	for attempts, op := 0, 0; attempts < l.Attempts; op++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			return c.hist
		case <-tick.C:
		}
		kind := c.pick()
		if kind != "cancel" {
			attempts++
		}
		key := fmt.Sprintf("%s-%d-%d", kind, l.Seed, op)
		wg.Go(func() { c.do(ctx, kind, key) })
	}
	wg.Wait()
	return c.hist
}

// pick chooses the next operation: 70% online, 10% phone, 10% desk, 10%
// cancellations of online bookings.
func (c *client) pick() string {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	switch x := c.rng.Float64(); {
	case x < 0.70:
		return "book"
	case x < 0.80:
		return "phone"
	case x < 0.90:
		return "desk"
	}
	return "cancel"
}

func (c *client) intn(n int) int {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.rng.IntN(n)
}

func (c *client) do(ctx context.Context, kind, key string) {
	session := c.load.Sessions[c.intn(len(c.load.Sessions))]
	switch kind {
	case "book":
		p := c.load.Patients[c.intn(len(c.load.Patients))]
		e := c.send(ctx, "book", key, "POST", "/v1/bookings", p.Token,
			map[string]string{"session_id": session, "patient_id": p.PatientID, "channel": "online"})
		switch {
		case e.Status == 201:
			c.mu.Lock()
			c.booked = append(c.booked, bookedRef{token: p.Token, id: e.BookingID})
			c.mu.Unlock()
		case e.Status == 409 && e.Code == "sold_out" && c.intn(2) == 0:
			c.send(ctx, "waitlist", "wait-"+key, "POST", "/v1/waitlist", p.Token,
				map[string]string{"session_id": session, "patient_id": p.PatientID})
		}
	case "phone":
		// Each caller rings from a number of their own: one number books
		// at most a family's persons a day (review23 H1).
		i := c.intn(len(c.load.Callers))
		p := c.load.Callers[i]
		c.send(ctx, "phone", key, "POST", "/v1/phone/bookings", c.load.Operator, map[string]string{
			"privacy_consent": booking.PrivacyNoticeVersion, "caller_phone": fmt.Sprintf("138%08d", i), "id_type": "resident_id", "id_number": p.IDNumber, "name": p.Name, "session_id": session})
	case "desk":
		p := c.load.WalkIns[c.intn(len(c.load.WalkIns))]
		c.send(ctx, "desk", key, "POST", "/v1/desk/bookings", c.load.Clerk, map[string]string{
			"privacy_consent": booking.PrivacyNoticeVersion, "id_type": "resident_id", "id_number": p.IDNumber, "name": p.Name,
			"session_id": session, "channel": "onsite"})
	case "cancel":
		c.mu.Lock()
		if len(c.booked) == 0 {
			c.mu.Unlock()
			return
		}
		i := c.intn(len(c.booked))
		b := c.booked[i]
		c.booked = append(c.booked[:i], c.booked[i+1:]...)
		c.mu.Unlock()
		c.send(ctx, "cancel", key, "DELETE", "/v1/bookings/"+b.id, b.token, nil)
	}
}

// send sends one operation and retries it, with the same Idempotency-Key,
// on another instance when there are several, until a definite answer: no
// answer, a 5xx and 409 request_in_progress are retried. It returns the
// last answer.
func (c *client) send(ctx context.Context, op, key, method, path, token string, body any) Event {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	deadline := time.Now().Add(c.load.RetryFor)
	backoff := 100 * time.Millisecond
	for try := 0; ; try++ {
		insts := c.load.Instances()
		inst := insts[int(c.next.Add(1))%len(insts)]
		e := c.once(ctx, op, key, try, inst, method, path, token, raw)
		if !(e.Status == 0 || e.Status >= 500 || e.Code == "request_in_progress") || time.Now().After(deadline) || ctx.Err() != nil {
			return e
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, time.Second)
	}
}

func (c *client) once(ctx context.Context, op, key string, try int, inst, method, path, token string, raw []byte) Event {
	sent := time.Now()
	e := Event{T: c.hist.since(sent), Op: op, Key: key, Try: try, Instance: inst}
	defer func() {
		e.MS = float64(time.Since(sent).Microseconds()) / 1000
		c.hist.add(e)
	}()
	var rd io.Reader
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, inst+path, rd)
	if err != nil {
		e.Err = err.Error()
		return e
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if method == "POST" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		e.Err = shortErr(err)
		return e
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	e.Status = resp.StatusCode
	var out struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		BookingID string `json:"booking_id"`
		SessionID string `json:"session_id"`
		SlotNo    int    `json:"slot_no"`
	}
	if json.Unmarshal(b, &out) == nil {
		e.Code, e.Message = out.Error.Code, out.Error.Message
		e.BookingID, e.SessionID, e.Slot = out.BookingID, out.SessionID, out.SlotNo
	}
	if op == "cancel" {
		e.BookingID = strings.TrimPrefix(path, "/v1/bookings/")
	}
	return e
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s) > 120 {
		s = s[i+2:]
	}
	return s
}
