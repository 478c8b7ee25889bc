package httpapi

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/valyala/fasthttp"
)

// FastHTTPLogger routes fasthttp's own log lines through log, redacted.
//
// fasthttp's default logger writes to standard error, and the line it writes
// for a request it cannot parse quotes the whole request buffer: passwords,
// bearer tokens, ID numbers and names. This logger keeps what fasthttp wrote
// itself (the format string) and the arguments that cannot carry request
// bytes (addresses, numbers); strings and byte slices are replaced by their
// length, and an error by its class (timeout, body too large, headers too
// large, malformed).
func FastHTTPLogger(log *slog.Logger) fasthttp.Logger {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	// The server's logger already names its component (http): a second
	// component key made two in one line (review18a L4); the library
	// that wrote the line has its own key.
	return fasthttpLogger{log: log.With("library", "fasthttp")}
}

type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	safe := make([]any, len(args))
	for i, a := range args {
		safe[i] = redactArg(a)
	}
	l.log.Warn(fmt.Sprintf(format, safe...))
}

// redactArg is what of one fasthttp log argument may be logged.
func redactArg(a any) any {
	switch v := a.(type) {
	case net.Addr:
		return v.String()
	case int, int64, uint64, float64, bool:
		return v
	case string:
		return fmt.Sprintf("[%d bytes withheld]", len(v))
	case []byte:
		return fmt.Sprintf("[%d bytes withheld]", len(v))
	case error:
		return errorClass(v)
	}
	return fmt.Sprintf("[%T withheld]", a)
}

// errorClass names what went wrong reading a request, without the bytes
// fasthttp's message quotes.
func errorClass(err error) string {
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return "request body too large"
	case errors.As(err, &small):
		return "request headers too large"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed early"
	}
	return "malformed request (detail withheld: it quotes the request)"
}
