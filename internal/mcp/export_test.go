package mcp

// Exported for the external tests.
var (
	Clip      = clip
	ValidText = validText
)
