package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/genesis-science/genesis"

	"github.com/genesis-science/genesis/internal/blob/pack"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
)

// Same-host puts.
//
// A client on the server's own machine (`genesis up` on a workstation)
// would otherwise chunk and hash every byte, send it over loopback TCP,
// and have the server receive and hash it again: on two cores that CPU,
// not the disk, bounds a put. So the server also serves the API on a Unix
// socket in its data directory (mode 0600), and there one more request
// exists: "put these files of mine", which the server packs itself
// through the same catalog calls the transfer protocol makes (the same
// authorization, claims, audit records, deferred durability and commit).
//
// It reads the files as the server's own OS user, so it is offered only
// to a peer that is that same user (SO_PEERCRED on the socket): the
// server then reads nothing its caller could not read itself. To anyone
// else, and over TCP, the request does not exist (404). The bearer token
// is required as everywhere. Clients find the socket with GET
// /api/v1/local, answered only to loopback and socket peers; a client
// that cannot use it (another user, another host) uses the transfer
// protocol as before.

// PeerCred is the OS identity of the process at the other end of a Unix
// socket connection.
type PeerCred struct{ UID, PID int }

type peerKey struct{}

// WithPeer returns ctx carrying the connection's peer credentials: the
// server's ConnContext for its Unix socket.
func WithPeer(ctx context.Context, p PeerCred) context.Context {
	return context.WithValue(ctx, peerKey{}, p)
}

func peerOf(ctx context.Context) (PeerCred, bool) {
	p, ok := ctx.Value(peerKey{}).(PeerCred)
	return p, ok
}

// SetLocalSocket records the Unix socket the server also listens on.
func (s *Server) SetLocalSocket(path string) { s.localSock.Store(&path) }

// LocalInfo answers GET /api/v1/local. Instance is random per server
// process: a client that asks again over the socket and gets the same
// value knows it reached the same server (and not another one that
// happens to have a socket at that path on the client's machine).
//
// LocalPut is true only over the socket, for a peer that may use
// local-put (the server's own OS user).
type LocalInfo struct {
	Socket   string `json:"socket"`
	Instance string `json:"instance"`
	LocalPut bool   `json:"local_put"`
}

var instance = func() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// LocalSource is one file or directory of a same-host put: Path on the
// server's (and caller's) machine, stored under Name as pack.Source has
// it.
type LocalSource struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// LocalPutRequest is the body of POST /api/v1/assets/{name}/local-put.
type LocalPutRequest struct {
	Sources []LocalSource `json:"sources"`
	Message string        `json:"message,omitempty"`
	Parent  *int64        `json:"parent,omitempty"`
	Inputs  []string      `json:"inputs,omitempty"`
	// Model describes a model version (model assets only), as in a commit.
	Model *catalog.ModelMeta `json:"model,omitempty"`
	// Synthetic and Generator mark a synthetic dataset version, as in a
	// commit.
	Synthetic bool   `json:"synthetic,omitempty"`
	Generator string `json:"generator,omitempty"`
}

// LocalPutResponse reports a same-host put.
type LocalPutResponse struct {
	Version   *catalog.Version `json:"version"`
	Chunks    int              `json:"chunks"`
	NewChunks int              `json:"new_chunks"`
	NewBytes  int64            `json:"new_bytes"`
}

// maxLocalSources bounds one request's source list.
const maxLocalSources = 10000

// localPutSlots is how many same-host puts pack at once; more wait. Each
// holds pack's read buffers (64 MiB) and keeps a core or two busy.
const localPutSlots = 2

// LocalPutEvent is one line of a streamed local-put response (Accept:
// application/x-ndjson): progress lines, then one with the result or the
// problem that ended the put.
type LocalPutEvent struct {
	Progress *LocalPutProgress `json:"progress,omitempty"`
	Result   *LocalPutResponse `json:"result,omitempty"`
	Problem  *Problem          `json:"problem,omitempty"`
}

// LocalPutProgress is how far a same-host put has read its files.
type LocalPutProgress struct {
	Bytes int64 `json:"bytes"`
	Files int   `json:"files"`
}

// ndjson is the streamed form of local-put's answer.
const ndjson = "application/x-ndjson"

func (s *Server) localInfo(w http.ResponseWriter, r *http.Request) error {
	p := s.localSock.Load()
	if p == nil || *p == "" || !fromThisHost(r) {
		return errors.E(errors.Op("httpapi.localInfo"), errors.NotExist)
	}
	writeJSON(w, http.StatusOK, LocalInfo{Socket: *p, Instance: instance, LocalPut: mayPutLocally(r)})
	return nil
}

// fromThisHost: the request came over the Unix socket or from a loopback
// address.
func fromThisHost(r *http.Request) bool {
	if _, ok := peerOf(r.Context()); ok {
		return true
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// mayPutLocally: the request came over the socket from a process of this
// server's OS user.
func mayPutLocally(r *http.Request) bool {
	peer, ok := peerOf(r.Context())
	return ok && peer.UID == os.Getuid()
}

func (s *Server) localPut(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.localPut"
	if !mayPutLocally(r) {
		return errors.E(op, errors.NotExist)
	}
	var req LocalPutRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if len(req.Sources) == 0 || len(req.Sources) > maxLocalSources {
		return errors.E(op, errors.Invalid, errors.Field("sources"), errors.Msg("between 1 and 10000 sources"))
	}
	srcs := make([]pack.Source, len(req.Sources))
	for i, src := range req.Sources {
		if !filepath.IsAbs(src.Path) || filepath.Clean(src.Path) != src.Path {
			return errors.E(op, errors.Invalid, errors.Field("sources"), errors.Msg("source paths must be absolute and clean: "+quoteField(src.Path)))
		}
		srcs[i] = pack.Source{Name: src.Name, Path: src.Path}
	}
	inputs, err := parseRefs(op, "inputs", req.Inputs)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	ctx := r.Context()
	select {
	case s.localPuts <- struct{}{}:
		defer func() { <-s.localPuts }()
	case <-ctx.Done():
		return errors.E(op, errors.Canceled, ctx.Err())
	}
	opts := pack.Options{}
	var stream *json.Encoder
	if strings.Contains(r.Header.Get("Accept"), ndjson) {
		// From here on the status is 200 and the outcome is the last line.
		w.Header().Set("Content-Type", ndjson)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		rc.Flush()
		stream = json.NewEncoder(w)
		var last time.Time
		opts.Progress = func(p pack.Progress) { // on Pack's reading goroutine, alone
			if now := time.Now(); now.Sub(last) >= 250*time.Millisecond {
				last = now
				stream.Encode(LocalPutEvent{Progress: &LocalPutProgress{Bytes: p.Bytes, Files: p.Files}})
				rc.Flush()
			}
		}
	}
	out, err := s.packAndCommit(ctx, me(r), name, srcs, opts, catalog.CommitSpec{Message: req.Message, Parent: req.Parent, Inputs: inputs, Model: req.Model,
		Synthetic: req.Synthetic, Generator: req.Generator})
	switch {
	case stream == nil && err != nil:
		return err
	case stream == nil:
		writeJSON(w, http.StatusCreated, out)
	case err != nil:
		p := s.problem(r, err)
		stream.Encode(LocalPutEvent{Problem: &p})
	default:
		stream.Encode(LocalPutEvent{Result: out})
	}
	return nil
}

// packAndCommit packs srcs into the asset name as p and commits the
// manifest as its next version.
func (s *Server) packAndCommit(ctx context.Context, p *genesis.Principal, name string, srcs []pack.Source, opts pack.Options, spec catalog.CommitSpec) (*LocalPutResponse, error) {
	res, err := pack.Pack(ctx, s.catalog.Blobs(p, name), srcs, opts)
	if err != nil {
		return nil, err
	}
	spec.Manifest = res.ID
	v, err := s.catalog.Commit(ctx, p, name, spec)
	if err != nil {
		return nil, err
	}
	return &LocalPutResponse{Version: v, Chunks: res.Chunks, NewChunks: len(res.New), NewBytes: res.NewBytes}, nil
}

// PeerConnContext is an http.Server ConnContext for a Unix socket
// listener: it attaches the peer's credentials to every request on the
// connection (nothing for other connections).
func PeerConnContext(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	cred, err := peerCred(uc)
	if err != nil {
		return ctx
	}
	return WithPeer(ctx, cred)
}
