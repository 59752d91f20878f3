package formats_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/genesis-science/genesis/internal/lit/formats"
)

func ExampleParse() {
	bib := `@article{smith2019,
  author = {Smith, John and Garc{\'\i}a, Ana},
  title  = {Phase stability of {CsPbI$_3$}},
  journal = {Nature Materials}, year = 2019,
  doi = {https://doi.org/10.1038/S41563-019-0001-X},
}`
	docs, err := formats.Parse(context.Background(), "refs.bib", strings.NewReader(bib), "")
	if err != nil {
		fmt.Println(err)
		return
	}
	d := docs[0]
	fmt.Println(d.Format, d.DOI)
	fmt.Println(d.Title)
	fmt.Println(strings.Join(d.Authors, "; "), d.Year, d.Venue)
	// Output:
	// bibtex 10.1038/s41563-019-0001-x
	// Phase stability of CsPbI3
	// John Smith; Ana García 2019 Nature Materials
}

func ExampleParse_error() {
	_, err := formats.Parse(context.Background(), "refs.bib", strings.NewReader("@article{k,\n  title = {open\n"), "")
	fmt.Println(err)
	// Output:
	// formats.Parse: invalid: refs.bib: bibtex: line 2: entry "k": unbalanced '{' (no matching '}' before the end of the file)
}
