package clientip

import (
	"net"
	"net/netip"
	"testing"

	"github.com/valyala/fasthttp"
)

// FuzzClientIP: whatever a peer sends in X-Forwarded-For, the client address
// is an address; an untrusted peer's is its own.
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
		ip, _ := proxies.ClientIP(&rc)
		if _, err := netip.ParseAddr(ip); err != nil {
			t.Fatalf("ClientIP(peer %s, xff %q) = %q, not an address", peer, xff, ip)
		}
		if p = p.WithZone("").Unmap(); !proxies.Trusts(p) && ip != p.String() {
			t.Fatalf("ClientIP(untrusted peer %s, xff %q) = %q, want the peer", peer, xff, ip)
		}
	})
}
