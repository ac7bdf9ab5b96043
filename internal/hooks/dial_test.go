package hooks

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestInternalAddresses(t *testing.T) {
	for addr, internal := range map[string]bool{"10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true, "169.254.169.254": true,
		"100.64.0.1": true, "0.0.0.0": true, "fdaa::3": true, "fe80::1": true, "224.0.0.1": true, "::": true,
		"127.0.0.1": false, "::1": false, "8.8.8.8": false, "2606:4700::1111": false, "100.128.0.1": false} {
		if got := internalAddress(net.ParseIP(addr)); got != internal {
			t.Errorf("internalAddress(%s) = %v, want %v", addr, got, internal)
		}
	}
}

// The delivery client reaches this machine (development) but refuses an
// internal address, whatever name led there.
func TestDeliveryClientRefusesInternal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	c := deliveryClient()
	resp, err := c.Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("loopback: %v", err)
	}
	resp.Body.Close()
	if _, err := c.Post("http://169.254.169.254/latest/meta-data", "application/json", nil); err == nil || !strings.Contains(err.Error(), "internal address") {
		t.Fatalf("metadata address: %v, want refused", err)
	}
	if _, err := c.Post("http://10.0.0.1:6379/", "application/json", nil); err == nil || !strings.Contains(err.Error(), "internal address") {
		t.Fatalf("private address: %v, want refused", err)
	}
}
