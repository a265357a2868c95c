package certificate

import "time"

// Options are the server-wide settings of the analysis.
type Options struct {
	// ExpiringSoonThreshold is the longest expiring-soon window (flag --expiring-soon-threshold).
	ExpiringSoonThreshold time.Duration
	// ExpiringSoonFraction caps the window at this fraction of a certificate's
	// lifetime (flag --expiring-soon-fraction), so short-lived certificates are
	// not flagged for most of their life.
	ExpiringSoonFraction float64
}

// DefaultOptions are 30 days and a third of the lifetime, close to
// cert-manager's default renewal point.
func DefaultOptions() Options {
	return Options{
		ExpiringSoonThreshold: 720 * time.Hour,
		ExpiringSoonFraction:  0.33,
	}
}
