package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// The suite's own servers: a redis-server it can kill -9 and restart (with
// its data or empty), and a PostgreSQL it can stop with -m immediate, so a
// fault never touches the services other tests share.

// Redis is a private redis-server with AOF persistence (appendfsync
// everysec), as deploy/local runs it: kill -9 loses at most the last second.
type Redis struct {
	Port int
	dir  string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRedis starts a redis-server on port with its data in dir.
func StartRedis(ctx context.Context, dir string, port int) (*Redis, error) {
	r := &Redis{Port: port, dir: filepath.Join(dir, "redis"), log: filepath.Join(dir, "redis.log")}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, err
	}
	return r, r.start(ctx)
}

// Addr is the server's address.
func (r *Redis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.Port) }

func (r *Redis) start(ctx context.Context) error {
	logf, err := os.OpenFile(r.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(r.Port), "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
		"--maxmemory-policy", "noeviction")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start redis-server: %w", err)
	}
	r.cmd, r.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(r.done) }()
	return waitFor(ctx, 20*time.Second, "redis on "+r.Addr(), func(ctx context.Context) error {
		c := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1})
		defer c.Close()
		return c.Ping(ctx).Err()
	})
}

// Kill kills the server with SIGKILL and waits for it to be gone.
func (r *Redis) Kill() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
	r.cmd = nil
}

// Restart starts the server again; with empty, its files are removed first.
func (r *Redis) Restart(ctx context.Context, empty bool) error {
	r.Kill()
	if empty {
		if err := os.RemoveAll(r.dir); err != nil {
			return err
		}
		if err := os.MkdirAll(r.dir, 0o755); err != nil {
			return err
		}
	}
	return r.start(ctx)
}

// Postgres is a private PostgreSQL cluster, run as the postgres user when
// this process is root (initdb refuses root).
type Postgres struct {
	Port int
	bin  string
	data string
	log  string
	root bool
}

// StartPostgres makes a cluster in dir and starts it on port. dir must be a
// folder the postgres user can enter when run as root.
func StartPostgres(ctx context.Context, dir string, port int) (*Postgres, error) {
	bin, err := pgBin()
	if err != nil {
		return nil, err
	}
	p := &Postgres{Port: port, bin: bin, data: filepath.Join(dir, "pg"), log: filepath.Join(dir, "postgres.log"), root: os.Geteuid() == 0}
	if err := os.MkdirAll(p.data, 0o700); err != nil {
		return nil, err
	}
	if p.root {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, PostgreSQL needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		// mktemp -d folders are 0700 root: open the way for postgres.
		for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
			if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o001 == 0 {
				_ = os.Chmod(d, st.Mode().Perm()|0o711)
			}
		}
		for _, f := range []string{p.data, p.log} {
			if _, err := os.Stat(f); errors.Is(err, os.ErrNotExist) {
				if err := os.WriteFile(f, nil, 0o644); err != nil {
					return nil, err
				}
			}
			if err := os.Chown(f, uid, gid); err != nil {
				return nil, err
			}
		}
	}
	out, err := p.run(ctx, "initdb", "-D", p.data, "-A", "trust", "-U", "fairslot", "-E", "UTF8", "--locale=C", "--no-sync")
	if err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return p, p.Start(ctx)
}

func pgBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Strings(dirs)
	if len(dirs) > 0 {
		return filepath.Dir(dirs[len(dirs)-1]), nil
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server binaries (apt-get install postgresql)")
}

func (p *Postgres) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	name := filepath.Join(p.bin, tool)
	if p.root {
		args = append([]string{"-u", "postgres", "--", name}, args...)
		name = "runuser"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = "/"
	return cmd.CombinedOutput()
}

// URL is the address of database db.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://fairslot@127.0.0.1:%d/%s?sslmode=disable", p.Port, db)
}

// Start starts the server and waits for it to accept connections.
func (p *Postgres) Start(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k '' -c max_connections=200 -c fsync=on", p.Port)
	if out, err := p.run(ctx, "pg_ctl", "-D", p.data, "-l", p.log, "-w", "-t", "60", "-o", opts, "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s", err, out)
	}
	return nil
}

// StopImmediate stops the server without a checkpoint, as a crash would.
func (p *Postgres) StopImmediate(ctx context.Context) error {
	if out, err := p.run(ctx, "pg_ctl", "-D", p.data, "-m", "immediate", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop -m immediate: %w\n%s", err, out)
	}
	return nil
}

// Stop stops the server for good.
func (p *Postgres) Stop() {
	_, _ = p.run(context.Background(), "pg_ctl", "-D", p.data, "-m", "fast", "-w", "stop")
}

// CreateDatabase makes an empty database and returns its URL, from an admin
// URL (the postgres database of any server).
func CreateDatabase(ctx context.Context, adminURL, name string) (string, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	i := strings.LastIndex(adminURL, "/")
	q := ""
	if j := strings.Index(adminURL[i:], "?"); j >= 0 {
		q = adminURL[i+j:]
	}
	return adminURL[:i+1] + name + q, nil
}

func dropDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return err
}

// waitFor polls probe until it succeeds or the timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, what string, probe func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := probe(pctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not up within %s: %w", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeTCP reports whether nothing listens on a loopback port.
func freeTCP(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
	if err != nil {
		return true
	}
	c.Close()
	return false
}
