package apiserver

import (
	"io"
	"net/http"
	"sync"

	"github.com/klauspost/compress/gzip"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/features"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// gzipThreshold is kube-apiserver's: a response of at most 128 KiB goes as
// it is, a longer one gzipped to a client that accepts gzip.
const gzipThreshold = 128 << 10

// gzipLevel is the level k8s.io/apiserver uses (its gzipContentEncodingLevel).
const gzipLevel = gzip.BestSpeed

var gzipWriters = sync.Pool{New: func() any {
	w, err := gzip.NewWriterLevel(nil, gzipLevel)
	if err != nil {
		panic(err) // only for a level out of range
	}
	return w
}}

// compressReads gzips the answers to gets and lists of certstatus.dev, under
// the rule kube-apiserver applies to its own (the client accepts gzip, the
// APIResponseCompression gate is on, the body passes 128 KiB), with
// klauspost/compress in place of compress/gzip: at level 1 it takes 0.6× the
// CPU for a smaller output, and with compress/gzip compression was two
// thirds of what a typed list cost certstatus (docs/benchmarks.md). k8s.io/apiserver's response writer
// is told the client takes no gzip, so a body is compressed once.
//
// It also decides by the whole body, where k8s.io/apiserver's writer decides
// by its first write, so every encoder may write as it likes.
// Watches are streams that must reach the client event by event: they and
// every other request go on as they came.
func compressReads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		info, ok := request.RequestInfoFrom(req.Context())
		if !ok || !info.IsResourceRequest || info.APIGroup != certstatus.GroupName ||
			(info.Verb != "get" && info.Verb != "list") ||
			responsewriters.ContentEncodingSupported(req, features.APIResponseCompression) != "gzip" {
			next.ServeHTTP(w, req)
			return
		}
		plain := req.Clone(req.Context())
		plain.Header.Del("Accept-Encoding")
		cw := &compressingWriter{ResponseWriter: w}
		next.ServeHTTP(cw, plain)
		// Not deferred: after a panic the server's recovery answers, and
		// what was held is dropped.
		cw.finish()
	})
}

// compressingWriter holds the status and the first 128 KiB of a body: a
// body that ends before then is sent as it is, a longer one gzipped.
type compressingWriter struct {
	http.ResponseWriter
	status  int
	held    []byte
	gzip    *gzip.Writer
	started bool
}

func (c *compressingWriter) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *compressingWriter) Write(p []byte) (int, error) {
	if c.started {
		if c.gzip != nil {
			return c.gzip.Write(p)
		}
		return c.ResponseWriter.Write(p)
	}
	if len(c.held)+len(p) <= gzipThreshold {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	if err := c.start(c.Header().Get("Content-Encoding") == ""); err != nil {
		return 0, err
	}
	return c.Write(p)
}

// start sends the status and what is held, through gzip if compress.
func (c *compressingWriter) start(compress bool) error {
	c.started = true
	if c.status == 0 {
		c.status = http.StatusOK
	}
	var out io.Writer = c.ResponseWriter
	if compress {
		c.Header().Set("Content-Encoding", "gzip")
		c.Header().Add("Vary", "Accept-Encoding")
		c.Header().Del("Content-Length")
		c.gzip = gzipWriters.Get().(*gzip.Writer)
		c.gzip.Reset(c.ResponseWriter)
		out = c.gzip
	}
	c.ResponseWriter.WriteHeader(c.status)
	held := c.held
	c.held = nil
	_, err := out.Write(held)
	return err
}

// finish ends the response: a short body goes now, as it came; a gzip
// stream is closed and its writer reused.
func (c *compressingWriter) finish() {
	if !c.started {
		if c.status == 0 && len(c.held) == 0 {
			return // nothing was written: the server's default answer stands
		}
		_ = c.start(false)
		return
	}
	if c.gzip != nil {
		_ = c.gzip.Close()
		c.gzip.Reset(nil)
		gzipWriters.Put(c.gzip)
		c.gzip = nil
	}
}
