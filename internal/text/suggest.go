package text

import "strings"

// Suggest returns the candidate closest to s, if it is close enough to be
// a likely typo: at most 1 edit for words of up to 5 bytes, 2 for longer
// ones, where swapping two neighbours counts as one edit ("gaol" →
// "goal"), letter case aside. Ties go to the earlier candidate; s itself,
// and anything longer than 64 bytes, is never suggested. The files people
// write (campaign, challenge and plan files) use it for did-you-mean.
func Suggest(s string, candidates []string) string {
	if s == "" || len(s) > 64 {
		return ""
	}
	limit := 1
	if len(s) > 5 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		if c == s || len(c) > 64 {
			continue
		}
		if d := osaDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// osaDistance is the optimal string alignment distance over bytes:
// insertions, deletions, substitutions and transpositions of neighbours.
func osaDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
