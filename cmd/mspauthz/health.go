package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

func newHealthCommand() *cobra.Command {
	var c restClient
	cmd := &cobra.Command{
		Use:     "health",
		GroupID: clientGroup,
		Short:   "Exit 0 when the service's readiness endpoint answers 200",
		Long: `Ask URL/readyz (SpiceDB and its datastore answer) and exit 0 only on 200, printing the
answer; otherwise exit 1 with the reason: the health check of a container image that
has no shell or curl.`,
		Example: `  mspauthz health --url http://127.0.0.1:8080`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client := &http.Client{Timeout: c.timeout}
			resp, err := client.Get(c.endpoint("/readyz", nil))
			if err != nil {
				return fmt.Errorf("unhealthy: %w", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("unhealthy: %s: %s", resp.Status, bytes.TrimSpace(body))
			}
			_, err = cmd.OutOrStdout().Write(body)
			return err
		},
	}
	c.registerAddressFlags(cmd.Flags(), 5*time.Second)
	return cmd
}
