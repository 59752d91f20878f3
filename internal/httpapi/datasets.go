package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
)

// CreateDatasetRequest is the body of POST /api/v1/datasets.
type CreateDatasetRequest struct {
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Label       string `json:"label"`
	Project     string `json:"project,omitempty"`
}

func (s *Server) createDataset(w http.ResponseWriter, r *http.Request) error {
	var req CreateDatasetRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	a, err := s.catalog.Create(r.Context(), me(r), catalog.CreateSpec{Kind: catalog.KindDataset, Name: req.Name, Title: req.Title,
		Description: req.Description, Label: req.Label, Project: req.Project})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/assets/"+a.ID) // a name may mean another asset to others
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) listDatasets(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := pageQuery(r)
	if err != nil {
		return err
	}
	as, next, err := s.catalog.List(r.Context(), me(r), catalog.KindDataset, catalog.ListOptions{Limit: limit, Cursor: cursor})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, List[catalog.Asset]{Items: as, Next: next})
	return nil
}

func (s *Server) getDataset(w http.ResponseWriter, r *http.Request) error {
	a, err := s.catalog.Get(r.Context(), me(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// RelabelRequest is the body of POST /api/v1/assets/{name}/label.
type RelabelRequest struct {
	Label string `json:"label"`
}

func (s *Server) relabelDataset(w http.ResponseWriter, r *http.Request) error {
	var req RelabelRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	a, err := s.catalog.Relabel(r.Context(), me(r), r.PathValue("name"), req.Label)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) error {
	vs, err := s.catalog.Versions(r.Context(), me(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(vs))
	return nil
}

func versionParam(r *http.Request) (int64, error) {
	v := r.PathValue("version")
	if v == "latest" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, errors.E(errors.Op("httpapi"), errors.Invalid, errors.Field("version"), errors.Msg("version must be a positive number or latest"))
	}
	return n, nil
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) error {
	n, err := versionParam(r)
	if err != nil {
		return err
	}
	v, m, err := s.catalog.ModelMeta(r.Context(), me(r), r.PathValue("name"), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, VersionView{Version: *v, Model: m})
	return nil
}

func (s *Server) getManifest(w http.ResponseWriter, r *http.Request) error {
	n, err := versionParam(r)
	if err != nil {
		return err
	}
	_, v, m, err := s.catalog.Manifest(r.Context(), me(r), r.PathValue("name"), n)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		return errors.E(errors.Op("httpapi.getManifest"), errors.Internal, err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Genesis-Version", strconv.FormatInt(v.Version, 10))
	w.Header().Set("X-Genesis-Label", v.Label)
	w.Write(buf.Bytes())
	return nil
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request) error {
	n, err := versionParam(r)
	if err != nil {
		return err
	}
	f, _, v, e, err := s.catalog.OpenFile(r.Context(), me(r), r.PathValue("name"), n, r.PathValue("path"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Genesis-Label", v.Label)
	w.Header().Set("ETag", `"`+e.Hash.String()+`"`)
	// ServeContent answers Range and If-Range requests.
	http.ServeContent(w, r, "", time.Unix(0, e.MTime), f)
	return nil
}

// MissingRequest asks which chunks an asset lacks.
type MissingRequest struct {
	IDs []string `json:"ids"`
}

// MissingResponse lists the chunks to send.
type MissingResponse struct {
	Missing []string `json:"missing"`
}

// MaxMissingIDs bounds one "which chunks do you lack?" request.
const MaxMissingIDs = 10000

func (s *Server) missingChunks(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.missingChunks"
	var req MissingRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if len(req.IDs) > MaxMissingIDs {
		return errors.E(op, errors.Invalid, errors.Field("ids"), errors.Msg("at most 10000 ids per request"))
	}
	ids := make([]blob.ID, len(req.IDs))
	for i, s := range req.IDs {
		id, err := blob.ParseID(s)
		if err != nil {
			return errors.E(op, errors.Invalid, errors.Field("ids"), errors.Msg("malformed chunk id at position "+strconv.Itoa(i)))
		}
		ids[i] = id
	}
	missing, err := s.catalog.MissingChunks(r.Context(), me(r), r.PathValue("name"), ids)
	if err != nil {
		return err
	}
	out := MissingResponse{Missing: make([]string, len(missing))}
	for i, id := range missing {
		out.Missing[i] = id.String()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func chunkID(r *http.Request) (blob.ID, error) {
	id, err := blob.ParseID(r.PathValue("id"))
	if err != nil {
		return blob.ID{}, errors.E(errors.Op("httpapi"), errors.Invalid, errors.Field("id"), errors.Msg("malformed chunk id"))
	}
	return id, nil
}

func (s *Server) putChunk(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.putChunk"
	id, err := chunkID(r)
	if err != nil {
		return err
	}
	if r.ContentLength > blob.MaxSize {
		return errors.E(op, errors.TooLarge, errors.Msg("a chunk is at most 16 MiB"))
	}
	// Decided before a byte of the body is read: a refused upload costs
	// no memory.
	ctx := r.Context()
	target, err := s.catalog.Uploadable(ctx, me(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	// The bodies being read at once hold at most chunkMemory bytes; more
	// wait for their turn.
	need := int64(blob.MaxSize + 1)
	if r.ContentLength >= 0 {
		need = max(r.ContentLength, 1)
	}
	if err := s.chunkMem.Acquire(ctx, need); err != nil {
		return errors.E(op, errors.Canceled, err)
	}
	defer s.chunkMem.Release(need)
	// Chunk bodies arrive by the thousand: their buffers are reused
	// (the catalog does not keep the bytes), which spares the collector.
	buf := bodyPool.Get().(*[]byte)
	defer bodyPool.Put(buf)
	data, err := readBodyInto(r, blob.MaxSize+1, buf)
	if err != nil {
		// A truncated upload stores nothing.
		return errors.E(op, errors.Invalid, errors.Msg("the chunk upload was cut short"), err)
	}
	if len(data) > blob.MaxSize {
		return errors.E(op, errors.TooLarge, errors.Msg("a chunk is at most 16 MiB"))
	}
	if err := s.catalog.ReceiveChunkTo(ctx, me(r), target, id, data); err != nil {
		if errors.Is(errors.Invalid, err) && errors.FieldOf(err) == "" {
			return errors.E(op, errors.Field("body"), err)
		}
		return err
	}
	s.metrics.ChunkBytes("in", int64(len(data)))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sendFile answers 200 with n bytes of f, as stored (the client verifies
// them against the chunk's ID). The body goes to the connection's own
// writer, below the middleware's wrappers, so that it is sent with
// sendfile(2) rather than copied through this process; the request log
// then shows the status but not the byte count. It returns the bytes sent.
func sendFile(w http.ResponseWriter, f *os.File, n int64) int64 {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(http.StatusOK)
	dst := w
	for {
		u, ok := dst.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		dst = u.Unwrap()
	}
	sent, _ := io.CopyN(dst, f, n) // an error here is the client's going away
	return sent
}

// bodyPool holds chunk upload buffers, sized for the chunker's largest
// chunk; bigger bodies get their own.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<20); return &b }}

// readBodyInto reads at most limit bytes of r's body: into *buf when the
// declared Content-Length fits it (growing nothing: one read into place),
// else into a new buffer.
func readBodyInto(r *http.Request, limit int64, buf *[]byte) ([]byte, error) {
	n := r.ContentLength
	if n < 0 || n > limit {
		return io.ReadAll(io.LimitReader(r.Body, limit))
	}
	b := *buf
	if int64(cap(b)) < n {
		b = make([]byte, n)
	}
	b = b[:n]
	if _, err := io.ReadFull(r.Body, b); err != nil {
		return nil, err
	}
	if int64(cap(*buf)) >= n {
		*buf = b[:0]
	}
	return b, nil
}

func (s *Server) getChunk(w http.ResponseWriter, r *http.Request) error {
	id, err := chunkID(r)
	if err != nil {
		return err
	}
	if r.Method == http.MethodHead {
		have, err := s.catalog.HasChunks(r.Context(), me(r), r.PathValue("name"), []blob.ID{id})
		if err != nil {
			return err
		}
		if !have[0] {
			return errors.E(errors.Op("httpapi.getChunk"), errors.NotExist)
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if r.Header.Get("Range") == "" {
		f, n, ok, err := s.catalog.OpenChunk(r.Context(), me(r), r.PathValue("name"), id)
		if err != nil {
			return err
		}
		if ok {
			defer f.Close()
			s.metrics.ChunkBytes("out", sendFile(w, f, n))
			return nil
		}
	}
	b, err := s.catalog.GetChunk(r.Context(), me(r), r.PathValue("name"), id, 0, -1)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	cw := &statusWriter{ResponseWriter: w}
	http.ServeContent(cw, r, "", time.Time{}, bytes.NewReader(b))
	s.metrics.ChunkBytes("out", cw.bytes)
	return nil
}

// CommitRequest is the body of POST /api/v1/assets/{name}/versions.
type CommitRequest struct {
	Manifest string `json:"manifest"`
	Message  string `json:"message,omitempty"`
	Parent   *int64 `json:"parent,omitempty"`
	// Inputs are the versions this one was derived from ("name@3").
	Inputs []string `json:"inputs,omitempty"`
	// Model describes a model version (model assets only).
	Model *catalog.ModelMeta `json:"model,omitempty"`
	// Synthetic marks a dataset version as synthetic data; Generator
	// names what made it (job:ID, campaign:NAME, instrument:NAME or
	// model:NAME), required with it.
	Synthetic bool   `json:"synthetic,omitempty"`
	Generator string `json:"generator,omitempty"`
}

// parseRefs parses NAME@VERSION references from the request field field.
func parseRefs(op errors.Op, field string, in []string) ([]catalog.VersionRef, error) {
	var refs []catalog.VersionRef
	for _, s := range in {
		ref, err := catalog.ParseRef(s)
		if err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Field(field), err)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

func (s *Server) commitVersion(w http.ResponseWriter, r *http.Request) error {
	var req CommitRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	id, err := blob.ParseID(req.Manifest)
	if err != nil {
		return errors.E(errors.Op("httpapi.commitVersion"), errors.Invalid, errors.Field("manifest"), errors.Msg("malformed manifest id"))
	}
	inputs, err := parseRefs("httpapi.commitVersion", "inputs", req.Inputs)
	if err != nil {
		return err
	}
	v, err := s.catalog.Commit(r.Context(), me(r), r.PathValue("name"), catalog.CommitSpec{Manifest: id, Message: req.Message, Parent: req.Parent, Inputs: inputs, Model: req.Model,
		Synthetic: req.Synthetic, Generator: req.Generator})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// pageQuery reads ?limit=N&cursor=C of a paged list (the list checks
// both; see store.Page).
func pageQuery(r *http.Request) (limit int, cursor string, err error) {
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil {
			return 0, "", errors.E(errors.Op("httpapi.list"), errors.Invalid, errors.Field("limit"), errors.Msg("limit must be 1..1000"))
		}
	}
	return limit, q.Get("cursor"), nil
}
