package clientip

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// FuzzClientIP: whatever a peer sends in X-Forwarded-For, the client address
// is an address; an untrusted peer's is its own; and it is what the
// version before the allocation cut found (referenceClientIP), trusted or
// not.
func FuzzClientIP(f *testing.F) {
	proxies := Proxies{netip.MustParsePrefix("10.0.0.0/8")}
	for _, seed := range []struct{ peer, xff string }{
		{"10.0.0.2", "198.51.100.7"}, {"10.0.0.2", "1.2.3.4, 10.0.0.9"}, {"203.0.113.5", "1.2.3.4"},
		{"10.0.0.2", "not-an-ip"}, {"10.0.0.2", ",,,"}, {"10.0.0.2", "::ffff:10.0.0.3, 2001:db8::1"},
	} {
		f.Add(seed.peer, seed.xff)
	}
	f.Fuzz(func(t *testing.T, peer, xff string) {
		p, err := netip.ParseAddr(peer)
		if err != nil {
			return
		}
		var req fasthttp.Request
		req.Header.Set("X-Forwarded-For", xff)
		var rc fasthttp.RequestCtx
		rc.Init(&req, &net.TCPAddr{IP: p.AsSlice(), Port: 1}, nil)
		ip, proxied := proxies.ClientIP(&rc)
		if wantIP, wantProxied := referenceClientIP(proxies, &rc); ip != wantIP || proxied != wantProxied {
			t.Fatalf("ClientIP(peer %s, xff %q) = %q, %v; the reference finds %q, %v", peer, xff, ip, proxied, wantIP, wantProxied)
		}
		if _, err := netip.ParseAddr(ip); err != nil {
			t.Fatalf("ClientIP(peer %s, xff %q) = %q, not an address", peer, xff, ip)
		}
		if p = p.WithZone("").Unmap(); !proxies.Trusts(p) && ip != p.String() {
			t.Fatalf("ClientIP(untrusted peer %s, xff %q) = %q, want the peer", peer, xff, ip)
		}
	})
}

// TestClientIPFromTheRight: behind trusted proxies the client is the first
// address from the right that is not a proxy; a hop that is not an address
// ends the walk at the last address found.
func TestClientIPFromTheRight(t *testing.T) {
	proxies := Proxies{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tt := range []struct {
		peer, xff, want string
		proxied         bool
	}{
		{"203.0.113.5", "1.2.3.4", "203.0.113.5", false},
		{"10.0.0.2", "", "10.0.0.2", true},
		{"10.0.0.2", "198.51.100.7", "198.51.100.7", true},
		{"10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.9", "198.51.100.7", true},
		{"10.0.0.2", "1.2.3.4, 10.0.0.8, 10.0.0.9", "1.2.3.4", true},
		{"10.0.0.2", "1.2.3.4, nonsense, 10.0.0.9", "10.0.0.9", true},
		{"10.0.0.2", "not-an-ip", "10.0.0.2", true},
		{"10.0.0.2", "::ffff:198.51.100.7", "198.51.100.7", true},
		{"::ffff:10.0.0.2", "2001:db8::1", "2001:db8::1", true},
	} {
		var req fasthttp.Request
		req.Header.Set("X-Forwarded-For", tt.xff)
		var rc fasthttp.RequestCtx
		rc.Init(&req, &net.TCPAddr{IP: netip.MustParseAddr(tt.peer).AsSlice(), Port: 1}, nil)
		if ip, proxied := proxies.ClientIP(&rc); ip != tt.want || proxied != tt.proxied {
			t.Errorf("peer %s, X-Forwarded-For %q: %q, %v; want %q, %v", tt.peer, tt.xff, ip, proxied, tt.want, tt.proxied)
		}
	}
}

// referenceClientIP is ClientIP as it was before it made the address a
// string once instead of at every hop: the fuzz test holds the two equal.
func referenceClientIP(p Proxies, rc *fasthttp.RequestCtx) (ip string, proxied bool) {
	peer, _ := netip.AddrFromSlice(rc.RemoteIP())
	peer = peer.Unmap()
	ip = peer.String()
	if !p.Trusts(peer) {
		return ip, false
	}
	xff := string(rc.Request.Header.Peek("X-Forwarded-For"))
	for xff != "" {
		i := strings.LastIndexByte(xff, ',')
		hop := strings.TrimSpace(xff[i+1:])
		xff = xff[:max(i, 0)]
		a, err := netip.ParseAddr(hop)
		if err != nil {
			break
		}
		ip = a.Unmap().String()
		if !p.Trusts(a.Unmap()) {
			break
		}
	}
	return ip, true
}

// TestClientIPAllocatesOnlyTheAnswer: behind a proxy, the client address is
// the one allocation (the header is read in place), whatever the hops (a
// hop that is not an address costs its parse error too); the header's bytes
// are not changed by the reading.
func TestClientIPAllocatesOnlyTheAnswer(t *testing.T) {
	proxies := Proxies{netip.MustParsePrefix("10.0.0.0/8")}
	for _, xff := range []string{"198.51.100.7", "1.2.3.4, 198.51.100.7, 10.0.0.9", "2001:db8::1%eth0, 10.0.0.9"} {
		var req fasthttp.Request
		req.Header.Set("X-Forwarded-For", xff)
		var rc fasthttp.RequestCtx
		rc.Init(&req, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 1}, nil)
		if n := testing.AllocsPerRun(100, func() { proxies.ClientIP(&rc) }); n > 1 {
			t.Errorf("X-Forwarded-For %q: %v allocations, want at most 1 (the answer)", xff, n)
		}
		if got := string(rc.Request.Header.Peek("X-Forwarded-For")); got != xff {
			t.Errorf("X-Forwarded-For is %q after ClientIP, want %q", got, xff)
		}
	}
}
