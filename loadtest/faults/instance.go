package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Build compiles cmd/fairslot into dir and returns the binary's path. root
// is the module's root folder.
func Build(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "fairslot")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/fairslot")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/fairslot: %w\n%s", err, out)
	}
	return bin, nil
}

// Instance is one `fairslot serve` process, as a supervisor would run it.
type Instance struct {
	Name string
	Port int
	bin  string
	env  []string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// URL is the instance's base URL.
func (in *Instance) URL() string { return "http://127.0.0.1:" + strconv.Itoa(in.Port) }

// Start starts the process and waits until /healthz answers.
func (in *Instance) Start(ctx context.Context) error {
	logf, err := os.OpenFile(in.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(in.bin, "serve")
	cmd.Env = append(os.Environ(), in.env...)
	cmd.Env = append(cmd.Env, "FAIRSLOT_HTTP_ADDR=127.0.0.1:"+strconv.Itoa(in.Port))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", in.Name, err)
	}
	in.cmd, in.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(in.done) }()
	client := &http.Client{Timeout: time.Second}
	return waitFor(ctx, 60*time.Second, in.Name, func(ctx context.Context) error {
		select {
		case <-in.done:
			return fmt.Errorf("%s exited; see %s", in.Name, in.log)
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", in.URL()+"/healthz", nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
}

// Kill kills the process with SIGKILL.
func (in *Instance) Kill() {
	if in.cmd == nil {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.done
	in.cmd = nil
}

// Stop asks the process to shut down (SIGTERM) and waits, killing it after
// 30 s.
func (in *Instance) Stop() {
	if in.cmd == nil {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(30 * time.Second):
		in.Kill()
	}
	in.cmd = nil
}
