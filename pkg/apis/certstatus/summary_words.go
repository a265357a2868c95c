package certstatus

// The one-word summaries api.md gives the table's KEY PAIR and CHAIN columns;
// the metrics' key_pair and chain labels use the same words.

// KeyPairWord is Match, Mismatch or Absent.
func KeyPairWord(key *PrivateKeyStatus) string {
	switch {
	case key == nil || !key.Present:
		return "Absent"
	case key.MatchesCertificate:
		return "Match"
	default:
		return "Mismatch"
	}
}

// ChainWord is Verified, Broken or Unknown.
func ChainWord(verified ChainVerification) string {
	switch verified {
	case ChainVerified:
		return "Verified"
	case ChainBroken:
		return "Broken"
	default:
		return "Unknown"
	}
}
