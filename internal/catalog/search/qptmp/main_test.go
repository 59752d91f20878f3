package qp

import (
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func TestPlan(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+os.Getenv("DB")+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{os.Getenv("Q")} {
		rows, err := db.Query("EXPLAIN QUERY PLAN " + q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, b, c int
			var d string
			rows.Scan(&a, &b, &c, &d)
			fmt.Println(d)
		}
		st := time.Now()
		rows, err = db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		fmt.Println(n, "rows", time.Since(st))
	}
}
