//go:build !linux

package httpapi

import (
	"net"

	"github.com/genesis-science/genesis/internal/errors"
)

// peerCred is unknown where SO_PEERCRED does not exist: no same-host puts.
func peerCred(*net.UnixConn) (PeerCred, error) {
	return PeerCred{}, errors.E(errors.Op("httpapi.peerCred"), errors.Unavailable)
}
