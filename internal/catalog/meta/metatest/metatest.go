// Package metatest generates metadata documents for tests and benchmarks.
package metatest

import (
	"encoding/json"
	"fmt"
)

// DataJSON returns a DCAT-US 1.1 catalog (data.json) of n datasets shaped
// like real agency entries (publisher hierarchy, contact point,
// distributions, GeoJSON or bbox spatial, temporal interval, themes), each
// with a distinct identifier.
func DataJSON(n int) []byte {
	ds := make([]any, n)
	for i := range ds {
		var spatial any = fmt.Sprintf("%.2f,%.2f,%.2f,%.2f", -125+float64(i%50), 24+float64(i%20), -66-float64(i%10), 49-float64(i%5))
		if i%3 == 0 {
			spatial = fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%d,%d],[%d,%d],[%d,%d],[%d,%d],[%d,%d]]]}`, -120+i%40, 30, -120+i%40, 40, -110+i%40, 40, -110+i%40, 30, -120+i%40, 30)
		}
		ds[i] = map[string]any{
			"@type":       "dcat:Dataset",
			"title":       fmt.Sprintf("Hourly surface observations, station %06d, %d", i, 1990+i%35),
			"description": fmt.Sprintf("Quality-controlled hourly air temperature, dew point, wind speed and direction, sea level pressure and precipitation from automated surface observing system station %06d. Values are flagged by the NCEI quality-control suite; see the documentation for flag definitions. Record %d of a generated benchmark catalog.", i, i),
			"keyword":     []string{"air temperature", "dew point", "wind", "precipitation", "ASOS", fmt.Sprintf("station %d", i)},
			"modified":    fmt.Sprintf("2024-%02d-%02d", 1+i%12, 1+i%28),
			"publisher": map[string]any{"@type": "org:Organization", "name": "National Centers for Environmental Information",
				"subOrganizationOf": map[string]any{"@type": "org:Organization", "name": "National Oceanic and Atmospheric Administration",
					"subOrganizationOf": map[string]any{"@type": "org:Organization", "name": "U.S. Department of Commerce"}}},
			"contactPoint": map[string]any{"@type": "vcard:Contact", "fn": "NCEI Information Services", "hasEmail": "mailto:ncei.info@noaa.gov"},
			"identifier":   fmt.Sprintf("gov.noaa.ncdc:BENCH-%07d", i),
			"accessLevel":  "public",
			"bureauCode":   []string{"006:48"},
			"programCode":  []string{"006:059"},
			"license":      "https://creativecommons.org/publicdomain/zero/1.0/",
			"spatial":      spatial,
			"temporal":     fmt.Sprintf("%d-01-01/%d-12-31", 1990+i%35, 2025),
			"issued":       "2001-05-01",
			"theme":        []string{"Climate", "geospatial"},
			"landingPage":  fmt.Sprintf("https://www.ncei.noaa.gov/access/metadata/landing-page/bin/iso?id=BENCH-%07d", i),
			"distribution": []any{
				map[string]any{"@type": "dcat:Distribution", "downloadURL": fmt.Sprintf("https://www.ncei.noaa.gov/data/bench/%07d.csv.gz", i), "mediaType": "application/gzip"},
				map[string]any{"@type": "dcat:Distribution", "accessURL": "https://www.ncei.noaa.gov/access/services/data/v1", "format": "API"},
			},
		}
	}
	out, _ := json.Marshal(map[string]any{
		"@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld", "@type": "dcat:Catalog",
		"conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": ds,
	})
	return out
}

// BenchmarkImportDataJSON10k imports a generated 10,000-dataset data.json
// (about 20 MB): target ≤ 30 s per import.
//
//	go test ./internal/catalog/meta/ -run '^$' -bench ImportDataJSON10k -benchmem
