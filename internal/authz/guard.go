package authz

import (
	"fmt"

	"github.com/genesis-science/genesis/internal/errors"
)

// Bounds on a policy's shape, checked by CheckPolicyShape before the Cedar
// parser sees the text. The parser, the schema validator and the evaluator
// recurse over the expression tree, so a deep source (500,000 nested
// parentheses, a run of 999,000 '!') overflows the goroutine stack — a
// fatal error that no recover catches — and long statements cost
// super-linear time in the validator (2,000 nested records: 15 s, 2 GB).
// The built-in policy nests 3 deep, runs no unary operator twice, has 30
// statements of at most ~150 tokens; these limits are far above anything
// written by hand and far below what the parser cannot survive.
const (
	// MaxPolicyNesting bounds the nesting depth of (, [ and {.
	MaxPolicyNesting = 64
	// MaxPolicyUnaryRun bounds a run of unary operators (! and -).
	MaxPolicyUnaryRun = 16
	// MaxPolicyStatements bounds the number of statements.
	MaxPolicyStatements = 1000
	// MaxStatementTokens bounds the tokens of one statement (an upper
	// estimate: every punctuation character counts as one).
	MaxStatementTokens = 10000
)

// CheckPolicyShape checks src against the size and shape bounds above in
// one pass over its bytes, without parsing it. String literals and //
// comments are skipped as the Cedar grammar defines them. The error is
// Invalid (TooLarge for size) with a message that names the line.
func CheckPolicyShape(src []byte) error {
	const op errors.Op = "authz.CheckPolicyShape"
	if len(src) > MaxPolicySize {
		return errors.E(op, errors.TooLarge, errors.Field("policy"), errors.Msg(fmt.Sprintf("policy exceeds %d bytes", MaxPolicySize)))
	}
	bad := func(line int, what string) error {
		return errors.E(op, errors.Invalid, errors.Field("policy"), errors.Msg(fmt.Sprintf("policy line %d: %s", line, what)))
	}
	line := 1
	depth, unary, statements, tokens := 0, 0, 0, 0
	inWord := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		word := c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
		if word {
			if !inWord {
				tokens++
				unary = 0
			}
			inWord = true
		} else {
			inWord = false
		}
		switch {
		case word:
		case c == '\n':
			line++
		case c == ' ' || c == '\t' || c == '\r':
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i-- // the newline is counted above
		case c == '"':
			tokens++
			unary = 0
			for i++; i < len(src) && src[i] != '"'; i++ {
				switch src[i] {
				case '\\':
					i++
				case '\n':
					line++
				}
			}
		default:
			tokens++
			switch c {
			case '!', '-':
				unary++
				if unary > MaxPolicyUnaryRun {
					return bad(line, fmt.Sprintf("more than %d unary operators (! or -) in a row", MaxPolicyUnaryRun))
				}
			case '(', '[', '{':
				unary = 0
				depth++
				if depth > MaxPolicyNesting {
					return bad(line, fmt.Sprintf("brackets nest more than %d deep", MaxPolicyNesting))
				}
			case ')', ']', '}':
				unary = 0
				if depth > 0 {
					depth--
				}
			case ';':
				unary = 0
				if depth == 0 {
					statements++
					tokens = 0
					if statements > MaxPolicyStatements {
						return bad(line, fmt.Sprintf("more than %d statements", MaxPolicyStatements))
					}
				}
			default:
				unary = 0
			}
		}
		if tokens > MaxStatementTokens {
			return bad(line, fmt.Sprintf("a statement longer than %d tokens", MaxStatementTokens))
		}
	}
	return nil
}
