// Command fakeserver stands in for certstatus-apiserver in the stack's own
// tests, so that starting, registering and restarting a server is covered
// even before (or without) the real binary: it serves /readyz and the
// discovery document of certstatus.dev/v1alpha1 over HTTPS, which it answers
// only to clients presenting a certificate (the aggregator presents its
// front-proxy one). It takes the real server's flags and ignores those it
// does not need.
package main

import (
	"crypto/tls"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
)

func main() {
	flags := map[string]string{}
	for _, arg := range os.Args[1:] {
		if name, value, ok := strings.Cut(strings.TrimPrefix(arg, "--"), "="); ok {
			flags[name] = value
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/apis/certstatus.dev/v1alpha1", func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "client certificate required", http.StatusUnauthorized)
			return
		}
		log.Printf("discovery for %s (user %q)", r.TLS.PeerCertificates[0].Subject.CommonName, r.Header.Get("X-Remote-User"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"certstatus.dev/v1alpha1","resources":[]}`)
	})
	server := &http.Server{
		Addr:    flags["bind-address"] + ":" + flags["secure-port"],
		Handler: mux,
		// Ask for a client certificate but check it in the handler: /readyz
		// is anonymous, as in a generic apiserver.
		TLSConfig: &tls.Config{ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12},
		ErrorLog:  log.Default(),
	}
	log.Printf("fakeserver listening on %s", server.Addr)
	log.Fatal(server.ListenAndServeTLS(flags["tls-cert-file"], flags["tls-private-key-file"]))
}
