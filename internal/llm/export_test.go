package llm

import "time"

// SetBackoff replaces c's wait between attempts (tests of the retry
// policy need not sleep).
func SetBackoff(c *Client, f func(attempt int) time.Duration) { c.backoff = f }
