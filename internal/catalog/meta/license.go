package meta

import (
	"strings"
)

// knownLicenses maps canonical SPDX ids (and a few well-known non-SPDX
// license URLs that federal catalogs use) to their canonical URL. The list is
// offline and deliberately short: it covers what data catalogs actually use.
var knownLicenses = map[string]string{
	"CC0-1.0":          "https://creativecommons.org/publicdomain/zero/1.0/",
	"CC-BY-4.0":        "https://creativecommons.org/licenses/by/4.0/",
	"CC-BY-3.0":        "https://creativecommons.org/licenses/by/3.0/",
	"CC-BY-SA-4.0":     "https://creativecommons.org/licenses/by-sa/4.0/",
	"CC-BY-NC-4.0":     "https://creativecommons.org/licenses/by-nc/4.0/",
	"CC-BY-ND-4.0":     "https://creativecommons.org/licenses/by-nd/4.0/",
	"CC-BY-NC-SA-4.0":  "https://creativecommons.org/licenses/by-nc-sa/4.0/",
	"CC-BY-NC-ND-4.0":  "https://creativecommons.org/licenses/by-nc-nd/4.0/",
	"CC-PDDC":          "https://creativecommons.org/licenses/publicdomain/",
	"PDDL-1.0":         "https://opendatacommons.org/licenses/pddl/1-0/",
	"ODC-By-1.0":       "https://opendatacommons.org/licenses/by/1-0/",
	"ODbL-1.0":         "https://opendatacommons.org/licenses/odbl/1-0/",
	"MIT":              "https://opensource.org/licenses/MIT",
	"Apache-2.0":       "https://www.apache.org/licenses/LICENSE-2.0",
	"BSD-2-Clause":     "https://opensource.org/licenses/BSD-2-Clause",
	"BSD-3-Clause":     "https://opensource.org/licenses/BSD-3-Clause",
	"GPL-2.0-only":     "https://www.gnu.org/licenses/old-licenses/gpl-2.0.html",
	"GPL-3.0-only":     "https://www.gnu.org/licenses/gpl-3.0.html",
	"GPL-3.0-or-later": "https://www.gnu.org/licenses/gpl-3.0.html",
	"LGPL-3.0-only":    "https://www.gnu.org/licenses/lgpl-3.0.html",
	"MPL-2.0":          "https://www.mozilla.org/en-US/MPL/2.0/",
	"Unlicense":        "https://unlicense.org/",
	"OGL-UK-3.0":       "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
}

// knownLicenseURLs are license URLs without an SPDX id that are nonetheless
// resolvable statements of terms (US federal works are public domain in the
// US; Project Open Data's "unknown" URL is deliberately not listed).
var knownLicenseURLs = map[string]bool{
	"https://www.usa.gov/government-works":               true,
	"https://www.usa.gov/publicdomain/label/1.0/":        true,
	"https://creativecommons.org/publicdomain/mark/1.0/": true,
}

// ckanLicenses maps CKAN's default license ids to SPDX ids.
var ckanLicenses = map[string]string{
	"cc-by": "CC-BY-4.0", "cc-by-sa": "CC-BY-SA-4.0", "cc-zero": "CC0-1.0", "cc-nc": "CC-BY-NC-4.0",
	"odc-pddl": "PDDL-1.0", "odc-by": "ODC-By-1.0", "odc-odbl": "ODbL-1.0", "gfdl": "GFDL-1.3-only",
	"uk-ogl": "OGL-UK-3.0", "us-pd": "https://www.usa.gov/government-works",
	"other-pd": "", "other-open": "", "other-at": "", "other-nc": "", "other-closed": "", "notspecified": "",
}

var spdxByLower, spdxByURL map[string]string

func init() {
	spdxByLower = map[string]string{}
	spdxByURL = map[string]string{}
	for id, u := range knownLicenses {
		spdxByLower[strings.ToLower(id)] = id
		spdxByURL[licenseURLKey(u)] = id
		spdxByURL[licenseURLKey("https://spdx.org/licenses/"+id)] = id
		spdxByURL[licenseURLKey("https://spdx.org/licenses/"+id+".html")] = id
	}
	// Common alternative spellings.
	spdxByURL[licenseURLKey("https://creativecommons.org/licenses/by/4.0/legalcode")] = "CC-BY-4.0"
	spdxByURL[licenseURLKey("https://creativecommons.org/publicdomain/zero/1.0/legalcode")] = "CC0-1.0"
	spdxByURL[licenseURLKey("https://opendefinition.org/licenses/cc-zero/")] = "CC0-1.0"
	spdxByURL[licenseURLKey("https://opendefinition.org/licenses/cc-by/")] = "CC-BY-4.0"
	spdxByURL[licenseURLKey("https://opensource.org/license/mit/")] = "MIT"
	spdxByURL[licenseURLKey("https://www.apache.org/licenses/LICENSE-2.0.html")] = "Apache-2.0"
	spdxByLower["cc-by"] = "CC-BY-4.0"
	spdxByLower["cc0"] = "CC0-1.0"
}

// licenseURLKey makes URL comparison forgiving: scheme, "www.", trailing
// slash and case do not matter.
func licenseURLKey(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	u = strings.TrimPrefix(u, "https://")
	u = strings.TrimPrefix(u, "http://")
	u = strings.TrimPrefix(u, "www.")
	return strings.TrimSuffix(u, "/")
}

// NormalizeLicense maps s onto a canonical SPDX id when it is one in any
// case, a known license URL, or a CKAN license id; otherwise it returns s.
func NormalizeLicense(s string) string {
	if s == "" {
		return s
	}
	if id, ok := spdxByLower[strings.ToLower(s)]; ok {
		return id
	}
	if id, ok := spdxByURL[licenseURLKey(s)]; ok {
		return id
	}
	if v, ok := ckanLicenses[strings.ToLower(s)]; ok && v != "" {
		return v
	}
	for u := range knownLicenseURLs {
		if licenseURLKey(u) == licenseURLKey(s) {
			return u
		}
	}
	return s
}

// LookupLicense reports whether s (after NormalizeLicense) is on the offline
// list of known licenses, and returns its canonical URL.
func LookupLicense(s string) (string, bool) {
	n := NormalizeLicense(s)
	if u, ok := knownLicenses[n]; ok {
		return u, true
	}
	if knownLicenseURLs[n] {
		return n, true
	}
	return "", false
}
