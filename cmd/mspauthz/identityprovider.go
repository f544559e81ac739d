package main

import (
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	pb "github.com/mspauthz/mspauthz/api/mspauthz/v1"
)

func newIdentityProviderCommand() *cobra.Command {
	var c restClient
	var req pb.SetIdentityProviderRequest
	cmd := &cobra.Command{
		Use:     "identity-provider",
		GroupID: clientGroup,
		Short:   "Configure the identity provider an MSP's staff (or a customer's own users) sign in with",
		Long: `Set the OpenID Connect identity provider of an MSP (PUT /v1/msps/{msp}/identityProvider;
needs settings.manage) or of one of its customers (--customer: PUT
/v1/msps/{msp}/customers/{c}/identityProvider; by its built-in administrator), and print
it as the service answers it (never the client secret). Register the callback URL the
serve banner names (<public URL>/signin/callback) at the provider.`,
		Example: `  MSPAUTHZ_CLIENT_SECRET=... mspauthz identity-provider --msp acme \
      --issuer https://login.microsoftonline.com/<tenant id>/v2.0 --client-id <application id> --claim email`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.MspId == "" || req.Issuer == "" || req.ClientId == "" {
				return usagef("--msp, --issuer and --client-id are required")
			}
			path := "/v1/msps/" + url.PathEscape(req.MspId)
			if req.CustomerId != "" {
				path += "/customers/" + url.PathEscape(req.CustomerId)
			}
			ctx, cancel := c.context(cmd)
			defer cancel()
			var out pb.IdentityProvider
			if err := c.ask(ctx, http.MethodPut, path+"/identityProvider", nil, &req, &out); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), &out)
		},
	}
	fs := cmd.Flags()
	c.registerFlags(fs, 30*time.Second)
	fs.StringVar(&req.MspId, "msp", "", "the MSP")
	fs.StringVar(&req.CustomerId, "customer", "", "the customer whose own users it signs in (default: the MSP's staff)")
	fs.StringVar(&req.Issuer, "issuer", "", "the provider's issuer URL, exactly as the iss of its tokens")
	fs.StringVar(&req.ClientId, "client-id", "", "mspauthz's client id at the provider (the audience of its tokens)")
	fs.StringVar(&req.ClientSecret, "client-secret", "", "the client's secret (set MSPAUTHZ_CLIENT_SECRET instead to keep it out of process lists; omitted keeps the one set for the same client id)")
	fs.StringVar(&req.Claim, "claim", "email", "the claim that names a user, matched to users' externalId: email, preferred_username or sub")
	fs.StringSliceVar(&req.AllowedDomains, "allowed-domains", nil, "only people whose email is in these domains sign in (comma-separated)")
	return cmd
}
