package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"fairslot/internal/testenv"
)

// BenchmarkRateCountersGC measures what the in-memory rate counters cost
// each garbage collection, by how many are live: 250,000 is one per patient
// and address seen in the release hour's first half minute (the library's
// 30 s sweep), 80,000 about what a 2 s sweep leaves at 20,000 attempts a
// second; the service's store (internal/ratelimit) beside the library's.
// go test -run '^$' -bench RateCountersGC ./cmd/fairslot
func BenchmarkRateCountersGC(b *testing.B) {
	rate := limiter.Rate{Period: time.Minute, Limit: 10} // none expires during the benchmark
	stores := []struct {
		name string
		new  func() limiter.Store
	}{
		{"ratelimit", memoryLimitStore},
		{"library", func() limiter.Store {
			return memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: limiter.DefaultPrefix, CleanUpInterval: 2 * time.Second})
		}},
	}
	for _, st := range stores {
		for _, n := range []int{80_000, 250_000} {
			b.Run(fmt.Sprint(st.name, "/", n), func(b *testing.B) {
				s := st.new()
				for i := range n {
					if _, err := s.Get(context.Background(), fmt.Sprintf("account:%08d-0000-4000-8000-000000000000", i), rate); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				b.ResetTimer()
				for b.Loop() {
					runtime.GC()
				}
				runtime.KeepAlive(s)
			})
		}
	}
}

// BenchmarkSoldOutAttempt is the sold-out answer end to end in the real
// binary's run(): fasthttp's parsing, the token, both tiers of the rate
// limits, the memory of sold-out pools (and its renewal from Redis every
// --sold-out-for), the answer and the refused attempt's record, over one
// keep-alive connection behind a trusted proxy (X-Forwarded-For), as the
// release minute's generator sends them. -benchmem's allocs/op are the
// whole process's per attempt: the client writes and reads in place, so
// what is counted is the service's, its background work included (the
// refusal writer keeps 4 alike a second here — one account — where the
// release minute's many accounts fill its 2,000 a second; its rows are
// TestRecordEventsRowAllocatesNothing's). Machine-independent: compare
// allocs/op; ns/op follows the machine's load.
//
//	go test -run '^$' -bench SoldOutAttempt -benchmem -benchtime 20000x ./cmd/fairslot
func BenchmarkSoldOutAttempt(b *testing.B) {
	sch := schedule(b, time.Now().Add(-time.Minute), 1)
	sess := sch.Sessions[0]
	svc := startService(b, sch, map[string]string{"FAIRSLOT_TRUSTED_PROXIES": "127.0.0.0/8"})
	winner, loser := svc.newPatient(1), svc.newPatient(2)
	if b.Failed() {
		b.FailNow()
	}
	if r := svc.do("POST", "/v1/bookings", winner.token, map[string]string{"session_id": sess.ID, "patient_id": winner.patientID}); r.status != 201 {
		b.Fatalf("first booking: %d %s", r.status, r.body)
	}
	body := `{"session_id":"` + sess.ID + `","patient_id":"` + loser.patientID + `"}`
	req := []byte("POST /v1/bookings HTTP/1.1\r\nHost: fairslot\r\nAuthorization: Bearer " + loser.token +
		"\r\nContent-Type: application/json\r\nX-Forwarded-For: 198.51.100.7\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	conn, err := net.Dial("tcp", strings.TrimPrefix(svc.base, "http://"))
	testenv.Must(b, err, "dial")
	defer conn.Close()
	rd := bufio.NewReaderSize(conn, 64<<10)
	attempt := func() {
		if _, err := conn.Write(req); err != nil {
			b.Fatalf("write: %v", err)
		}
		status, length := 0, -1
		for {
			line, err := rd.ReadSlice('\n')
			if err != nil {
				b.Fatalf("read: %v", err)
			}
			switch {
			case status == 0 && bytes.HasPrefix(line, []byte("HTTP/1.1 ")) && len(line) >= 12:
				status, _ = strconv.Atoi(string(line[9:12]))
			case len(line) > 16 && bytes.EqualFold(line[:16], []byte("Content-Length: ")):
				length, _ = strconv.Atoi(string(bytes.TrimSpace(line[16:])))
			}
			if len(bytes.TrimSpace(line)) == 0 {
				break
			}
		}
		if _, err := rd.Discard(length); err != nil || status != 409 {
			b.Fatalf("answer %d (body of %d bytes: %v), want 409 sold_out", status, length, err)
		}
	}
	for range 1000 { // the memory of the empty pool, the connection and the counters warm
		attempt()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		attempt()
	}
}
