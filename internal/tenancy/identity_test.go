package tenancy_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// An issuer signs in to one MSP: acme's provider cannot be globex's too,
// its client secret is stored sealed, never in the clear, and the identity
// it resolves is a user of acme's staff whom nothing else names.
func TestIdentity_AcmesIssuerSignsInAcmesStaffOnlyAndItsSecretIsSealed(t *testing.T) {
	w := newWorld(t)
	w.seedCast()
	w.msp("globex", nil, nil, nil)
	sealer, err := auth.NewSealer("a-test-server-key-of-32-characters-at-least", "client secrets")
	require.NoError(t, err)
	w.svc.SetSealer(sealer)
	const issuer = "https://login.example.com/acme/v2.0"

	p, err := w.svc.SetIdentityProvider(w.ctx, "acme", "", tenancy.IdentityProvider{Issuer: issuer, ClientID: "mspauthz", ClientSecret: "s3cret-value"})
	require.NoError(t, err)
	require.True(t, p.HasClientSecret)
	require.Empty(t, p.ClientSecret)
	_, err = w.svc.SetIdentityProvider(w.ctx, "globex", "", tenancy.IdentityProvider{Issuer: issuer, ClientID: "x"})
	require.True(t, fault.Is(err, fault.AlreadyExists), "%v", err)

	rels, _, err := w.g.Read(w.ctx, graph.Filter{ResourceType: "identity_provider"}, graph.Full())
	require.NoError(t, err)
	for _, r := range rels {
		for _, v := range r.Attributes() {
			require.NotContains(t, v, "s3cret-value")
		}
	}
	byIssuer, err := w.svc.IdentityProviderByIssuer(w.ctx, issuer)
	require.NoError(t, err)
	secret, err := w.svc.ClientSecret(byIssuer)
	require.NoError(t, err)
	require.Equal(t, "s3cret-value", secret)
	other, err := auth.NewSealer("another-server-key-of-32-characters-at-least", "client secrets")
	require.NoError(t, err)
	w.svc.SetSealer(other)
	_, err = w.svc.ClientSecret(byIssuer)
	require.True(t, fault.Is(err, fault.Internal), "sealed with another key: %v", err)

	alex := "alex@acme.example"
	_, err = w.svc.UpdateUser(w.ctx, "acme", "alex", tenancy.UserUpdate{ExternalID: &alex})
	require.NoError(t, err)
	user, err := w.svc.SignInUser(w.ctx, byIssuer, alex)
	require.NoError(t, err)
	require.Equal(t, "alex", user)
	_, err = w.svc.UpdateUser(w.ctx, "acme", "bob", tenancy.UserUpdate{ExternalID: &alex})
	require.True(t, fault.Is(err, fault.AlreadyExists), "%v", err)

	// Deleting Alex deletes his identity: it names nobody, and may be given again.
	_, err = w.svc.DeleteUser(w.ctx, "acme", "alex")
	require.NoError(t, err)
	_, err = w.svc.SignInUser(w.ctx, byIssuer, alex)
	require.True(t, fault.Is(err, fault.Unauthenticated), "%v", err)
	_, err = w.svc.UpdateUser(w.ctx, "acme", "bob", tenancy.UserUpdate{ExternalID: &alex})
	require.NoError(t, err)

	// Deleting acme frees its issuer.
	require.NoError(t, w.svc.DeleteMSP(w.ctx, "acme"))
	_, err = w.svc.SetIdentityProvider(w.ctx, "globex", "", tenancy.IdentityProvider{Issuer: issuer, ClientID: "x"})
	require.NoError(t, err)
}
