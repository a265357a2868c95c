package stack

import (
	"fmt"
	"net"
	"sync"
)

var (
	portsMu   sync.Mutex
	portsUsed = map[int]bool{} // handed out by this test binary, never given twice
)

// freePort returns a loopback TCP port nobody listens on right now. Another
// program may still take it before our child binds it; starters retry on
// "address already in use".
func freePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !portsUsed[port] {
			portsUsed[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("find free port: no unused port after 20 tries")
}

// FreePort is freePort for tests that start processes of their own
// (Prometheus, Alertmanager): never a port the stack handed out.
func FreePort() (int, error) { return freePort() }
