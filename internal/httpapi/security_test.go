package httpapi

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
)

// seriesCount counts the time series a registry exports.
func seriesCount(t *testing.T, reg *prometheus.Registry) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	n := 0
	for _, mf := range mfs {
		n += len(mf.GetMetric())
	}
	return n
}

// TestUnknownMethodsMakeNoSeries: the method label takes a fixed set of
// values, so a client inventing method names cannot grow the metrics
// without bound (the audit made 4,800 series with 300 requests).
func TestUnknownMethodsMakeNoSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	rate := limiter.Rate{Limit: 1_000_000, Period: 1e9}
	s := New(Config{IPRate: rate, AccountRate: rate}, nil, memory.NewStore(), reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, path := range []string{"/v1/hospitals", "/v1/nothing"} {
		serveOne(s, "FOO", path, "127.0.0.1:1", "")
	}
	before := seriesCount(t, reg)
	for i := range 300 {
		for _, path := range []string{"/v1/hospitals", "/v1/nothing"} {
			resp := serveOne(s, fmt.Sprintf("M%03d", i), path, "127.0.0.1:1", "")
			if resp.StatusCode() >= 500 {
				t.Fatalf("method M%03d %s = %d, want a 4xx", i, path, resp.StatusCode())
			}
		}
	}
	if after := seriesCount(t, reg); after != before {
		t.Errorf("300 invented methods grew the metrics from %d to %d series, want no growth", before, after)
	}
}
