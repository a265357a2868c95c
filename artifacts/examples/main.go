// Command examples prints the demo Secrets as a multi-document YAML stream:
//
//	go run ./artifacts/examples -namespace demo | kubectl apply -f -
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

func main() {
	namespace := flag.String("namespace", "default", "namespace of the example Secrets")
	flag.Parse()
	if err := printSecrets(*namespace); err != nil {
		fmt.Fprintln(os.Stderr, "examples:", err)
		os.Exit(1)
	}
}

func printSecrets(namespace string) error {
	for i, secret := range certtest.ExampleSecrets(namespace, time.Now()) {
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
