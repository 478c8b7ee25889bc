// Command noop is the ceiling of the machine for the booking benchmark: a
// fasthttp server with exactly the fasthttp.Server settings of fairslot's API
// (internal/httpapi/server.go, New) whose handler does nothing but answer
// every request with the bytes fairslot sends for a sold-out attempt:
//
//	409, Content-Type: application/json,
//	{"error":{"code":"sold_out","message":"no slot is left in this channel"}}
//
// It does not route, authenticate, rate-limit, decode the body or touch Redis
// or SQL, so under the same load generator no booking server can answer
// faster on this machine: the HTTP parsing and writing it still does is what
// every server pays.
//
//	go run ./loadtest/noop --http-addr 127.0.0.1:8091
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/httpapi"
)

// soldOutBody is what fairslot's writeJSON encodes for booking.ErrSoldOut,
// newline included (json.Encoder ends every value with one).
const soldOutBody = `{"error":{"code":"sold_out","message":"no slot is left in this channel"}}` + "\n"

// shutdownTimeout bounds the graceful stop, as fairslot's --shutdown-timeout.
const shutdownTimeout = 15 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "noop:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then stops gracefully.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("noop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("http-addr", "127.0.0.1:8091", "address to serve on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	srv := newServer()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "noop: http://%s\n", ln.Addr())

	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return srv.ShutdownWithContext(sctx)
}

// newServer returns the API's own fasthttp server (internal/httpapi, with its
// default 64 KiB body limit); only the handlers differ.
func newServer() *fasthttp.Server {
	return httpapi.NewFastHTTPServer(handle, connError, 64<<10, nil)
}

// handle answers sold_out to everything, without looking at the request.
func handle(rc *fasthttp.RequestCtx) {
	rc.SetStatusCode(fasthttp.StatusConflict)
	rc.SetContentType("application/json")
	rc.SetBodyString(soldOutBody)
}

// connError answers requests fasthttp could not read, in fairslot's error
// shape, as httpapi's connError does.
func connError(rc *fasthttp.RequestCtx, err error) { httpapi.WriteReadError(rc, err) }
