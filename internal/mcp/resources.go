package mcp

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Resource URIs: a publication and a passage, read as the caller.
const (
	publicationURI = "genesis://publication/"
	passageURI     = "genesis://passage/"
)

// addResources offers publications and passages as resources, read
// through the same library calls as get_publication and get_passage (and
// audited alike). A hidden one is "Resource not found", as a missing one.
func (s *Server) addResources() {
	s.mcp.AddResourceTemplate(&sdk.ResourceTemplate{Name: "publication", Title: "Publication",
		Description: "An imported publication (asset ID pub_… or name) as JSON: citation, abstract, counts, citation edges.",
		MIMEType:    "application/json", URITemplate: publicationURI + "{ref}"}, s.readResource)
	s.mcp.AddResourceTemplate(&sdk.ResourceTemplate{Name: "passage", Title: "Passage",
		Description: "One citable passage (psg_…) as JSON, with its citation.",
		MIMEType:    "application/json", URITemplate: passageURI + "{id}"}, s.readResource)
}

func (s *Server) readResource(ctx context.Context, req *sdk.ReadResourceRequest) (*sdk.ReadResourceResult, error) {
	const op errors.Op = "mcp.read_resource"
	uri := req.Params.URI
	ctx, p, err := callerFrom(ctx, req.Extra.TokenInfo)
	if err != nil {
		return nil, err
	}
	var v any
	var name, ref string
	switch {
	case strings.HasPrefix(uri, publicationURI):
		name, ref = "get_publication", strings.TrimPrefix(uri, publicationURI)
		if err = checkText(op, "uri", ref, MaxRefArg); err == nil {
			v, err = s.cfg.Library.Publication(ctx, p, ref)
		}
	case strings.HasPrefix(uri, passageURI):
		name, ref = "get_passage", strings.TrimPrefix(uri, passageURI)
		if err = checkText(op, "uri", ref, MaxRefArg); err == nil {
			v, err = s.cfg.Library.Passage(ctx, p, ref)
		}
	default:
		name, err = "read_resource", errors.E(op, errors.NotExist)
	}
	s.record(ctx, p, name, ref, err)
	if errors.Is(errors.NotExist, err) {
		return nil, sdk.ResourceNotFoundError(uri)
	}
	if err != nil {
		return nil, toolErr{err}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, toolErr{errors.E(op, errors.Internal, err)}
	}
	return &sdk.ReadResourceResult{Contents: []*sdk.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(b)}}}, nil
}
