package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"fairslot/loadtest/procstat"
)

// profileWindow is one CPU profile a load run takes of the service: name
// (the file, name.pprof) and the span it covers.
type profileWindow struct {
	name string
	from time.Time
	d    time.Duration
}

// releaseSpan is how much of a release the first profile covers: the
// second before T (not_released answers), the release second, and the
// seconds in which the pools are learnt to be empty.
const releaseSpan = 5 * time.Second

// profileWindows are the profiles of a load run with -cpuprofile: for a
// release at T, the release seconds (T−1 s to T+4 s) in release.pprof and
// the rest of the load in after.pprof; for a load without a release, the
// whole load from start in load.pprof.
func profileWindows(release, start time.Time, hold time.Duration) []profileWindow {
	if release.IsZero() {
		return []profileWindow{{"load", start, hold}}
	}
	from := release.Add(-time.Second)
	w := []profileWindow{{"release", from, releaseSpan}}
	if rest := hold - releaseSpan + time.Second; rest > 0 {
		w = append(w, profileWindow{"after", from.Add(releaseSpan), rest})
	}
	return w
}

// traceWindow is the execution trace a release run takes with -trace:
// from a little before T (the not_released answers, the connections'
// state as the release comes) over the release second, in which the
// 1,000 winners are answered.
func traceWindow(release time.Time) profileWindow {
	return profileWindow{"release", release.Add(-300 * time.Millisecond), 1500 * time.Millisecond}
}

// startTrace fetches the service's execution trace over traceWindow into
// path; the returned function waits for it. A load without a release has
// no release second to trace.
func startTrace(ctx context.Context, admin, path string, release time.Time) func() error {
	if release.IsZero() {
		return func() error { return errors.New("-trace: this load has no release") }
	}
	w := traceWindow(release)
	done := make(chan error, 1)
	go func() {
		if err := waitUntil(ctx, w.from); err != nil {
			done <- err
			return
		}
		done <- fetchProfile(ctx, admin, fmt.Sprintf("trace?seconds=%g", w.d.Seconds()), path)
	}()
	return func() error { return <-done }
}

// waitUntil returns at t, or with ctx's error if it ends first.
func waitUntil(ctx context.Context, t time.Time) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(t)):
		return nil
	}
}

// startLoadProfiles fetches the windows' profiles from the service's
// admin address (it serves pprof: --pprof), one window after the other,
// each started at its time: with -cpuprofile its CPU profile, with
// -memprofile its allocations (allocs?seconds: every allocation in the
// window), each into its folder as name.pprof; then, with -cpuprofile, its
// heap profile at the load's end (heap.pprof: what is live then, and every
// allocation since the start). The returned function waits for them.
// pprof counts whole seconds.
func startLoadProfiles(ctx context.Context, admin string, o options, windows []profileWindow) func() error {
	done := make(chan error, 1)
	go func() {
		var errs []error
		for _, w := range windows {
			if err := waitUntil(ctx, w.from); err != nil {
				done <- err
				return
			}
			secs := max(1, int(math.Round(w.d.Seconds())))
			errs = append(errs, fetchProfiles(ctx, admin, o, secs, w.name+".pprof", false))
		}
		if o.cpuProfile != "" {
			errs = append(errs, fetchProfile(ctx, admin, "heap", filepath.Join(o.cpuProfile, "heap.pprof")))
		}
		done <- errors.Join(errs...)
	}()
	return func() error { return <-done }
}

// fetchProfiles takes the profiles o asks for over the same secs, at once:
// CPU into -cpuprofile's folder, allocations into -memprofile's, each as
// file.
//
// The runtime publishes its allocation profile at the end of each
// collection, so allocs?seconds=N is the difference between the last
// collections before its start and before its end: with one collection or
// none in the span, it holds allocations from before the span (a wrk run
// after the sell-out showed the sell-out's booking path). With bracket, a
// collection is forced (heap?gc=1) just before the span and half a second
// before its end, so the profile is that span's own allocations (less its
// last half second); it costs the service two collections, and is for the
// wrk runs, not the release minute.
func fetchProfiles(ctx context.Context, admin string, o options, secs int, file string, bracket bool) error {
	var kinds [][2]string
	if o.cpuProfile != "" {
		kinds = append(kinds, [2]string{"profile", o.cpuProfile})
	}
	if o.memProfile != "" {
		kinds = append(kinds, [2]string{"allocs", o.memProfile})
	}
	if bracket && o.memProfile != "" {
		if err := fetchProfile(ctx, admin, "heap?gc=1", os.DevNull); err != nil {
			return err
		}
		go func() {
			time.Sleep(time.Duration(secs)*time.Second - 500*time.Millisecond)
			_ = fetchProfile(ctx, admin, "heap?gc=1", os.DevNull)
		}()
	}
	errs := make(chan error, len(kinds))
	for _, k := range kinds {
		go func() {
			errs <- fetchProfile(ctx, admin, fmt.Sprintf("%s?seconds=%d", k[0], secs), filepath.Join(k[1], file))
		}()
	}
	var all []error
	for range kinds {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// fetchProfile writes a profile from the pprof handler at admin
// (host:port) to path: which is the handler's path and query under
// /debug/pprof/ (profile?seconds=N, heap).
func fetchProfile(ctx context.Context, admin, which, path string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s/debug/pprof/%s", admin, which), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s profile: %s (is pprof served?)", which, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}

// loadCPU is the service's CPU time over the load: from a second before the
// release (or the load's start) to the generator's end, the time its
// threads waited, runnable, for a CPU in that span (the kernel's run queue:
// another process on the service's CPU, or its own threads more than its
// CPUs), and the booking attempts it answered.
type loadCPU struct {
	cpu, runQueue time.Duration
	attempts      float64
	gc            goRuntime // the collector and the allocations over the same span
}

// perHundredThousand is the service's CPU-s per 100,000 booking attempts.
func (l loadCPU) perHundredThousand() float64 {
	if l.attempts <= 0 {
		return 0
	}
	return l.cpu.Seconds() / l.attempts * 1e5
}

// gcShare is the collector's part of the service's CPU: the runtime's
// estimate of the collector's against the process's own (/proc).
func (l loadCPU) gcShare() float64 {
	if l.cpu <= 0 {
		return 0
	}
	return l.gc.gcCPU / l.cpu.Seconds()
}

func (l loadCPU) String() string {
	s := fmt.Sprintf("Service CPU from T−1 s to the load's end: %.1f CPU-s for %.0f booking attempts, %.2f CPU-s per 100,000; "+
		"its threads waited %.1f s runnable for a CPU (run queue).",
		l.cpu.Seconds(), l.attempts, l.perHundredThousand(), l.runQueue.Seconds())
	if l.attempts > 0 && l.gc.allocBytes > 0 {
		s += fmt.Sprintf(" Garbage collector: %.0f collections, %.2f CPU-s by the runtime's estimate (%.1f %% of the service's CPU; mark assists %.2f, idle marking %.2f); "+
			"%.0f bytes and %.1f objects allocated per attempt.",
			l.gc.cycles, l.gc.gcCPU, l.gcShare()*100, l.gc.assistCPU, l.gc.idleCPU, l.gc.allocBytes/l.attempts, l.gc.allocObjects/l.attempts)
	}
	return s
}

// measureLoadCPU reads the service's CPU time and booking attempts at from
// and again when the returned function is called (after the generator).
func measureLoadCPU(ctx context.Context, s *server, from time.Time) func() (loadCPU, bool) {
	type reading struct {
		cpu, runQueue time.Duration
		attempts      float64
		gc            goRuntime
		ok            bool
	}
	read := func() reading {
		snap, err := scrapeMetrics(s.admin)
		if err != nil {
			return reading{}
		}
		pid := s.cmd.Process.Pid
		p := &targetProc{pid: pid}
		return reading{cpu: p.cpu(), runQueue: procstat.RunQueueWait(strconv.Itoa(pid)), attempts: snap.attempts[math.Inf(1)], gc: snap.gc, ok: true}
	}
	first := make(chan reading, 1)
	go func() {
		select {
		case <-ctx.Done():
			first <- reading{}
		case <-time.After(time.Until(from)):
			first <- read()
		}
	}()
	return func() (loadCPU, bool) {
		a := <-first
		b := read()
		if !a.ok || !b.ok || b.cpu <= a.cpu {
			return loadCPU{}, false
		}
		return loadCPU{cpu: b.cpu - a.cpu, runQueue: b.runQueue - a.runQueue, attempts: b.attempts - a.attempts, gc: b.gc.sub(a.gc)}, true
	}
}
