package apiserver

import "io"

// streamingFirstWrite is the longest first write that k8s.io/apiserver's
// response writer takes for the start of a stream (its
// firstWriteStreamingThresholdBytes): it then buffers what follows and
// gzips the response, for a client that accepts gzip, once more than
// 128 KiB has come. A longer first write decides at once, by its own
// size, and a list written 32 KiB at a time would never be compressed.
const streamingFirstWrite = 4

// startsSmall makes a list's first write a single byte, so that the
// response is compressed as kube-apiserver compresses its own lists: a
// list of 10 000 statuses is about 33 MB of JSON and 3 MB gzipped.
type startsSmall struct {
	w       io.Writer
	started bool
}

func (s *startsSmall) Write(p []byte) (int, error) {
	if s.started || len(p) <= streamingFirstWrite {
		s.started = true
		return s.w.Write(p)
	}
	s.started = true
	n, err := s.w.Write(p[:1])
	if err != nil {
		return n, err
	}
	m, err := s.w.Write(p[1:])
	return n + m, err
}
