// Command certstatus-apiserver serves certificatestatuses.certstatus.dev.
package main

import (
	"os"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"
	"k8s.io/klog/v2"

	"github.com/certstatus/certstatus/cmd/certstatus-apiserver/app"
)

func main() {
	said, err := setMemoryLimit()
	if err != nil {
		klog.ErrorS(err, "Cannot set the Go memory limit")
		os.Exit(1)
	}
	if said != "" {
		klog.InfoS("Memory limit", "setting", said)
	}
	ctx := genericapiserver.SetupSignalContext()
	os.Exit(cli.Run(app.NewCommand(ctx)))
}
