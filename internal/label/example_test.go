package label_test

import (
	"fmt"

	"github.com/genesis-science/genesis/internal/label"
)

func Example() {
	a := label.MustParse("national-security//itar/fusion//rel to gbr, usa")
	b := label.MustParse("PROPRIETARY//AGR:CRADA-0042//REL TO USA, CAN")
	fmt.Println(a)
	fmt.Println(label.Join(a, b))
	fmt.Println(label.Dominates(label.Join(a, b), a), label.Dominates(a, b))

	c, _ := label.NewClearance(label.NationalSecurity, []string{"FUSION", "ITAR"}, "GBR")
	fmt.Println(c.MayRead(a), c.MayRead(b))
	c, _ = c.WithAgreements([]string{"CRADA-0042"}, nil) // held now
	fmt.Println(c.MayRead(b))                            // GBR is not in REL TO USA, CAN

	_, err := label.Parse("SECRET//NOFORN")
	fmt.Println(err)
	// Output:
	// NATIONAL-SECURITY//FUSION/ITAR//REL TO USA, GBR
	// NATIONAL-SECURITY//FUSION/ITAR//AGR:CRADA-0042//REL TO USA
	// true false
	// true false
	// false
	// label: "SECRET": unknown level (want OPEN, PROPRIETARY or NATIONAL-SECURITY)
}
