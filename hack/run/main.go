// Command run starts a local control plane with certstatus registered and a
// few demo Secrets, prints how to use it, and keeps it up until SIGINT or
// SIGTERM (`make run`).
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/certstatus/certstatus/test/stack"
)

// demoNamespace holds the demo Secrets.
const demoNamespace = "demo"

// withMonitoring starts Prometheus and Alertmanager too (make run MONITORING=1).
var withMonitoring bool

func main() {
	server := flag.String("server", "", "path to the certstatus-apiserver binary (make build)")
	flag.BoolVar(&withMonitoring, "monitoring", false, "also run Prometheus and Alertmanager with the shipped rules and Slack routing (to a local stand-in)")
	flag.Parse()
	log.SetFlags(log.Ltime)
	if *server == "" {
		log.Print("--server is required")
		os.Exit(2)
	}
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *server)
	stopSignals()
	switch {
	case err != nil && errors.Is(err, context.Canceled) && ctx.Err() != nil:
		log.Print("interrupted; everything started was stopped")
	case err != nil:
		log.Print(err)
		os.Exit(1)
	}
}

func run(ctx context.Context, server string) (err error) {
	begin := time.Now()
	st, err := stack.Start(ctx, stack.Options{Logf: log.Printf})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil && ctx.Err() == nil {
			st.WriteLogTails(os.Stderr, 30)
		}
		log.Print("stopping certstatus, kube-controller-manager, kube-apiserver, etcd ...")
		stopBegin := time.Now()
		err = errors.Join(err, st.Stop())
		log.Printf("stopped in %v", time.Since(stopBegin).Round(time.Millisecond))
	}()

	srv, err := st.StartServer(ctx, server)
	if err != nil {
		return err
	}
	log.Printf("certstatus ready and registered (pid %d)", srv.PID())
	n, err := loadDemoSecrets(ctx, st, demoNamespace)
	if err != nil {
		return err
	}
	log.Printf("loaded %d demo Secrets into namespace %s", n, demoNamespace)

	local, err := writeLocalAccess(st)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, local.remove()) }()
	printBanner(os.Stdout, st, srv, local, time.Since(begin))
	if withMonitoring {
		stop, err := startMonitoring(ctx, st, srv)
		if err != nil {
			return err
		}
		defer stop()
	}

	<-ctx.Done()
	log.Print("signal received")
	return nil
}
