package httpapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/mission/partners"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

func TestPartnersAPI(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		exercisePartners(t, newHarness(t, db))
	})
}

// exercisePartners drives the portfolio routes and the synthetic flag of
// search; TestAPI calls it too, so that its every-operation check sees
// them.
func exercisePartners(t *testing.T, h *harness) {
	t.Helper()
	admin := h.admin
	org := fmt.Sprintf("partner-lab-%d", time.Now().UnixNano()%1e6)
	if r := h.do("POST", "/api/v1/organizations", admin, map[string]any{"name": org, "country": "GBR", "kind": "allied-government"}); r.status != 201 {
		t.Fatalf("create org = %d %s", r.status, r.body)
	}
	now := time.Now().UTC()
	agr := fmt.Sprintf("DUA-P%d", now.UnixNano()%1e6)
	if r := h.do("POST", "/api/v1/agreements", admin, map[string]any{"id": agr, "type": "data-use", "parties": []string{org},
		"not_before": now.Add(-time.Hour), "not_after": now.Add(10 * 24 * time.Hour)}); r.status != 201 {
		t.Fatalf("create agreement = %d %s", r.status, r.body)
	}
	var pf partners.Portfolio
	h.do("GET", "/api/v1/partners?expiring=30d&expiring_only=true", admin, nil).decode(t, &pf)
	found := false
	for _, p := range pf.Partners {
		if p.Org.Name == org {
			found = true
			if p.Expiring != 1 || p.Agreements[0].Status != partners.StatusExpiring || p.Org.Kind != "allied-government" {
				t.Errorf("partner %+v", p)
			}
		}
		if p.Expiring == 0 {
			t.Errorf("expiring_only lists %s", p.Org.Name)
		}
	}
	if !found || pf.ExpiringWithinDays != 30 {
		t.Errorf("portfolio %+v", pf)
	}
	var p partners.Partner
	h.do("GET", "/api/v1/partners/"+org+"?expiring=5d", admin, nil).decode(t, &p)
	if len(p.Agreements) != 1 || p.Agreements[0].Status != partners.StatusInForce || p.Principals == nil {
		t.Errorf("partner with a 5-day window: %+v", p)
	}
	// Bad input names the field; an unknown organisation is 404.
	for _, c := range []struct{ path, field string }{
		{"/api/v1/partners?expiring=soon", "expiring"},
		{"/api/v1/partners?expiring=0d", "expiring"},
		{"/api/v1/partners?expiring=99999d", "expiring"},
		{"/api/v1/partners?expiring_only=yes", "expiring_only"},
		{"/api/v1/partners/" + org + "?expiring_only=true", "expiring_only"},
		{"/api/v1/search?synthetic=maybe", "synthetic"},
	} {
		r := h.do("GET", c.path, admin, nil)
		if r.status != 400 || r.problem(t).Field != c.field {
			t.Errorf("%s = %d %s", c.path, r.status, r.body)
		}
	}
	if r := h.do("GET", "/api/v1/partners/no-such-org", admin, nil); r.status != 404 {
		t.Errorf("unknown org = %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/api/v1/search?synthetic=true", admin, nil); r.status != 200 {
		t.Errorf("synthetic search = %d %s", r.status, r.body)
	}
}
