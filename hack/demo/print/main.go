// Command print prints the demo Secrets (package demo) as a multi-document
// YAML stream, to load them into any cluster:
//
//	go run ./hack/demo/print -namespace demo | kubectl apply -f -
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/certstatus/certstatus/hack/demo"
)

func main() {
	namespace := flag.String("namespace", "default", "namespace of the demo Secrets")
	flag.Parse()
	if err := printSecrets(*namespace); err != nil {
		fmt.Fprintln(os.Stderr, "print demo Secrets:", err)
		os.Exit(1)
	}
}

func printSecrets(namespace string) error {
	for i, secret := range demo.Secrets(namespace, time.Now()) {
		document, err := yaml.Marshal(secret)
		if err != nil {
			return fmt.Errorf("marshal secret %s: %w", secret.Name, err)
		}
		if i > 0 {
			fmt.Println("---")
		}
		if _, err := os.Stdout.Write(document); err != nil {
			return fmt.Errorf("write secret %s: %w", secret.Name, err)
		}
	}
	return nil
}
