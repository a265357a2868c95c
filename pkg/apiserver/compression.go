package apiserver

import (
	"io"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/registry/computed"
)

// listWriter is w for everything but a list, which the encoders stream:
// its first write is made a single byte (startsSmall). Every streaming
// encoder (JSON, pretty JSON, protobuf) calls it where it is given the
// response, once.
func listWriter(obj runtime.Object, w io.Writer) io.Writer {
	switch obj.(type) {
	case computed.StatusList, *certstatus.CertificateStatusList:
		return &startsSmall{w: w}
	}
	return w
}

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
