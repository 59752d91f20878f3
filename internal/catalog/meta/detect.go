package meta

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
)

type jsonRaw = json.RawMessage

func has(m map[string]jsonRaw, keys ...string) bool {
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

func detectObject(top map[string]jsonRaw) (Format, error) {
	const op errors.Op = "meta.Detect"
	ctx := strings.ToLower(string(top["@context"]))
	typ := string(top["@type"])
	switch {
	case has(top, "data") && !has(top, "@context"):
		return DataCite, nil
	case has(top, "success", "help") && has(top, "result"):
		return CKAN, nil
	case has(top, "dataset") && (strings.Contains(ctx, "project-open-data") || bytes.Contains(top["conformsTo"], []byte("project-open-data")) || strings.Contains(typ, "dcat:Catalog")):
		return DCATUS, nil
	case has(top, "@graph") || strings.Contains(ctx, "schema.org") || strings.Contains(typ, "Dataset") || strings.Contains(typ, "DataCatalog"):
		if strings.Contains(typ, "dcat:") {
			return DCATUS, nil
		}
		return SchemaOrg, nil
	case has(top, "dataset"):
		return DCATUS, nil
	case has(top, "accessLevel", "bureauCode", "programCode"):
		return DCATUS, nil
	case has(top, "attributes"):
		return DataCite, nil
	case has(top, "titles") && has(top, "creators", "doi", "publicationYear"):
		return DataCite, nil
	}
	if looksCKAN(top) {
		return CKAN, nil
	}
	return "", errors.E(op, errors.Invalid, errors.Msg("unrecognised JSON document: not DataCite, schema.org, DCAT-US or CKAN"))
}
