// Package clientip finds who a request comes from behind the load balancer:
// the client's address (X-Forwarded-For, believed only from trusted
// proxies) and whether it reached us over TLS. The API (httpapi) and the
// web consoles (web) both use it; it imports neither.
package clientip

import (
	"net/netip"
	"strings"
	"unsafe"

	"github.com/valyala/fasthttp"
)

// HSTS is the Strict-Transport-Security header of answers sent over TLS.
const HSTS = "max-age=31536000"

// Secure reports whether the client reached us over TLS: directly, or
// through a trusted proxy (proxied) that says so in X-Forwarded-Proto.
func Secure(rc *fasthttp.RequestCtx, proxied bool) bool {
	return rc.IsTLS() || proxied && strings.EqualFold(string(rc.Request.Header.Peek("X-Forwarded-Proto")), "https")
}

// Proxies are the peers whose X-Forwarded-For is believed (--trusted-proxies).
// The API and the web consoles find the client's address the same way.
type Proxies []netip.Prefix

// Trusts reports whether a is a trusted proxy.
func (p Proxies) Trusts(a netip.Addr) bool {
	for _, n := range p {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP finds the client's address, and whether the peer is a trusted
// proxy. X-Forwarded-For is believed only from a trusted peer, and then from
// the right: the first address not itself a trusted proxy is the client. The
// leftmost entry is whatever the client chose to send.
func (p Proxies) ClientIP(rc *fasthttp.RequestCtx) (ip string, proxied bool) {
	peer, _ := netip.AddrFromSlice(rc.RemoteIP())
	client := peer.Unmap()
	if !p.Trusts(client) {
		return client.String(), false
	}
	// The address is made a string once, at the end: behind a proxy, the
	// peer's and each hop's strings were garbage of every request. The
	// header is read in place (a view of fasthttp's bytes, valid while the
	// request is): only the hops' parsing sees it, and nothing made from it
	// is kept — ParseAddr's error, which quotes it, is dropped at once. Its
	// copy was an allocation of every proxied request.
	raw := rc.Request.Header.Peek("X-Forwarded-For")
	xff := unsafe.String(unsafe.SliceData(raw), len(raw))
	for xff != "" {
		i := strings.LastIndexByte(xff, ',')
		hop := strings.TrimSpace(xff[i+1:])
		xff = xff[:max(i, 0)]
		a, err := netip.ParseAddr(hop)
		if err != nil {
			break
		}
		client = a.Unmap()
		if !p.Trusts(client) {
			break
		}
	}
	return client.String(), true
}
