package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The CPU of a refused attempt (`make bench ARGS="-refused -before main"`):
// what the service spends on the sold-out answer of the release minute,
// this build against another, measured in one run. Each measurement seeds
// the booking target's database (20 sessions × 50 released slots, 20,000
// patients), sells every slot with a few seconds of wrk (the release
// second), then measures a wrk run in which every attempt is refused
// sold_out: the service's CPU time (user + system, /proc) per 100,000
// answers. The builds alternate, so a change in the machine's load falls
// on both; the medians are compared.

// refusedWarmUp is how long wrk runs to sell the slots before measuring.
const refusedWarmUp = 5 * time.Second

type build struct{ name, bin string }

func refusedAB(ctx context.Context, o options, dir string, serve func(bin string, args ...string) func(context.Context, *env, string) (*targetProc, error)) error {
	builds := []build{{"this build (" + o.bin + ")", o.bin}}
	switch {
	case o.beforeBin != "":
		builds = append(builds, build{o.beforeBin, o.beforeBin})
	case o.before != "":
		bin, err := buildAt(ctx, o.before, dir)
		if err != nil {
			return err
		}
		builds = append(builds, build{"at " + o.before, bin})
	}
	rounds := max(o.rounds, 1)
	input := filepath.Join(dir, "wrk-input.txt")
	cpu := make([][]float64, len(builds))
	allocB, allocN := make([][]float64, len(builds)), make([][]float64, len(builds))
	fmt.Printf("CPUs: %s\n", pinned.describe())
	for round := 1; round <= rounds; round++ {
		for i, b := range builds {
			step("round %d of %d, %s: sell out, then wrk -t2 -c64 -d%s on sold-out pools", round, rounds, b.name, o.duration)
			res, booked, err := measureRefused(ctx, o, dir, input, b.bin, serve(b.bin))
			if err != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
			if booked != 1000 || res.Non2xx != res.Requests {
				return fmt.Errorf("%s: %d booked (want 1000), %d of %d answers refused (want all): not the sold-out answer",
					b.name, booked, res.Non2xx, res.Requests)
			}
			fmt.Printf("    %.2f CPU-s per 100,000 refused attempts (%.1f %% answered from memory); %.0f bytes and %.1f objects allocated per attempt, %.0f collections; "+
				"%.0f requests/s, client p99 %.2f ms, service-side p99 %s; load average %s\n",
				res.CPUPer100k, res.FromMemory*100, res.AllocBytes, res.AllocObjects, res.GCCycles, res.RPS, res.P99MS, msOrDash(res.ServiceP99MS), res.LoadAvg)
			cpu[i] = append(cpu[i], res.CPUPer100k)
			allocB[i], allocN[i] = append(allocB[i], res.AllocBytes), append(allocN[i], res.AllocObjects)
		}
	}
	fmt.Println()
	fmt.Println("| build | CPU-s per 100,000 refused attempts, each round | median | bytes allocated per attempt, median | objects per attempt, median |")
	fmt.Println("|---|---|---:|---:|---:|")
	for i, b := range builds {
		var each []string
		for _, c := range cpu[i] {
			each = append(each, fmt.Sprintf("%.2f", c))
		}
		fmt.Printf("| %s | %s | %.2f | %.0f | %.1f |\n", b.name, strings.Join(each, ", "), median(cpu[i]), median(allocB[i]), median(allocN[i]))
	}
	if len(builds) == 2 && median(cpu[1]) > 0 {
		fmt.Printf("\nthis build / %s: %.2f× the CPU per refused attempt", builds[1].name, median(cpu[0])/median(cpu[1]))
		if median(allocB[1]) > 0 {
			fmt.Printf(", %.2f× the bytes allocated", median(allocB[0])/median(allocB[1]))
		}
		fmt.Println()
	}
	return nil
}

// measureRefused is one measurement: a fresh seed, the slots sold, then
// the refused attempts' run.
func measureRefused(ctx context.Context, o options, dir, input, bin string, start func(context.Context, *env, string) (*targetProc, error)) (wrkResult, int64, error) {
	e, err := newEnv(ctx)
	if err != nil {
		return wrkResult{}, 0, err
	}
	defer e.close()
	if err := e.fairslot(ctx, o.bin, io.Discard, "migrate"); err != nil {
		return wrkResult{}, 0, err
	}
	if err := e.fairslot(ctx, o.loadseed, io.Discard, "--out", dir, "--patients", fmt.Sprint(o.patients),
		"--sessions", "20", "--slots", "50", "--release-at", "-1m"); err != nil {
		return wrkResult{}, 0, err
	}
	if err := wrkInput(dir, input); err != nil {
		return wrkResult{}, 0, err
	}
	srv, err := start(ctx, e, apiAddr)
	if err != nil {
		return wrkResult{}, 0, err
	}
	defer srv.stop()
	if _, err := runWrk(ctx, apiAddr, input, refusedWarmUp); err != nil {
		return wrkResult{}, 0, fmt.Errorf("selling out: %w", err)
	}
	var booked int64
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM bookings`).Scan(&booked); err != nil {
		return wrkResult{}, 0, err
	}
	prof := startProfile(o, target{name: "refused " + filepath.Base(bin), fairslot: true}, o.duration)
	res, err := measureWrk(ctx, srv, true, apiAddr, input, o.duration)
	if perr := prof(); perr != nil {
		fmt.Printf("    cpu profile: %v\n", perr)
	}
	return res, booked, err
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
