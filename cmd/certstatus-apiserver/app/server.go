package app

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/certstatus/certstatus/pkg/apiserver"
	"github.com/certstatus/certstatus/pkg/version"
)

// NewCommand is the certstatus-apiserver command: flags → config → run.
func NewCommand(ctx context.Context) *cobra.Command {
	options := NewOptions()
	cmd := &cobra.Command{
		Use:   "certstatus-apiserver",
		Short: "Serves certificatestatuses.certstatus.dev: the health of the X.509 certificates in Secrets",
		Long: "certstatus-apiserver is a Kubernetes aggregated API server. It computes a read-only " +
			"CertificateStatus for every Secret that holds certificates, from the Secret and the clock, " +
			"and stores nothing.",
		Version:      version.Version,
		SilenceUsage: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return options.Components.Set()
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := options.Validate(); err != nil {
				return err
			}
			config, err := options.Config()
			if err != nil {
				return err
			}
			server, err := apiserver.New(config)
			if err != nil {
				return err
			}
			return server.Run(cmd.Context())
		},
	}
	cmd.SetContext(ctx)
	options.AddFlags(cmd.Flags())
	return cmd
}
