package instruments

import "github.com/genesis-science/genesis/internal/lab"

// Narrowable and Effective expose the bounds rules to the fuzz test.
func Narrowable(info *lab.Info, b Bounds) error       { return narrowable(info, b) }
func Effective(info *lab.Info, b Bounds) []lab.Action { return effective(info, b) }

// Check exposes Spec.check to the fuzz test.
func (s *Spec) Check() (string, error) { return s.check() }
