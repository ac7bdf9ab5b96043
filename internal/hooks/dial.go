package hooks

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"
)

// sharedAddress is the carrier-grade NAT range (RFC 6598), private in
// practice though not in net.IP.IsPrivate.
var sharedAddress = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

// internalAddress reports whether ip is on a network a brand's webhook
// must never reach from Parley's side: private ranges (the deployment's own
// network, a cloud's metadata service), link-local, multicast or
// unspecified. Loopback is this machine, allowed for development (the
// URL check lets http go only there).
func internalAddress(ip net.IP) bool {
	return ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() || sharedAddress.Contains(ip)
}

// refuseInternal is a dialer's Control: it checks the address actually
// dialled, after DNS, so a name that resolves (or later rebinds) to an
// internal address is refused too.
func refuseInternal(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || internalAddress(ip) {
		return fmt.Errorf("webhook: %s is an internal address; deliveries go only to public hosts", host)
	}
	return nil
}

// deliveryClient posts deliveries: 10 s per attempt, no redirects (a
// redirect could point anywhere), and never to an internal address.
func deliveryClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: refuseInternal}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a proxy would dial on our behalf, past the check
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
