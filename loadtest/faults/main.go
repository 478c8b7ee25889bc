package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("faults", flag.ContinueOnError)
	only := fs.String("only", "", "run only the faults whose name contains this")
	attempts := fs.Int("attempts", 1200, "booking attempts per fault")
	rate := fs.Float64("rate", 50, "operations per second")
	out := fs.String("out", "", "folder for binaries, server data, logs and histories (default: a new temporary folder)")
	pgPort := fs.Int("pg-port", 15500, "private PostgreSQL port (and +1 for its proxy)")
	redisPort := fs.Int("redis-port", 16500, "private Redis port (and +1 for its proxy)")
	httpPort := fs.Int("http-port", 15510, "first service instance's port (and +1 for the second)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return errors.New("run from the repository's root (make test-faults)")
	}
	dir := *out
	if dir == "" {
		if dir, err = os.MkdirTemp("", "fairslot-faults-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s, err := NewSuite(ctx, Config{Root: root, Dir: dir, PGPort: *pgPort, RedisPort: *redisPort, HTTPPort: *httpPort,
		Attempts: *attempts, Rate: *rate, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer s.Close()
	var rows []Row
	failed := 0
	for _, f := range faultTable() {
		if *only != "" && !strings.Contains(f.Name, *only) {
			continue
		}
		row, err := s.Run(ctx, f)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		rows = append(rows, row)
		status := "ok"
		if !row.OK() {
			status = "FAILED"
			failed++
		}
		fmt.Fprintf(os.Stderr, "faults: %s: %s: %d attempts, %d 201s, lost %d, oversold %d, double %d, drift %d, 404s %d, recovery %.2f s\n",
			f.Name, status, row.Attempts, row.Confirmed, row.Lost, row.Oversold, row.Double, row.Drift, row.NotFound, row.Recovery)
		for _, p := range row.Problems[:min(len(row.Problems), 20)] {
			fmt.Fprintln(os.Stderr, "    ", p)
		}
	}
	Markdown(os.Stdout, rows)
	b, _ := json.MarshalIndent(rows, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "faults.json"), b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "faults: histories, logs and faults.json in %s\n", dir)
	if failed > 0 {
		return fmt.Errorf("%d of %d faults broke an invariant", failed, len(rows))
	}
	return nil
}
