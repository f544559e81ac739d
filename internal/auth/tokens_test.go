package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

func TestTokens(t *testing.T) {
	ctx := context.Background()
	g := spicedbtest.Graph(t)
	svc := tenancy.New(g)
	for _, msp := range []string{"acme", "globex"} {
		_, err := svc.CreateMSP(ctx, tenancy.MSP{ID: msp, DisplayName: msp, OwnerUserID: "owner"})
		require.NoError(t, err)
	}
	_, err := auth.NewTokens(g, "short")
	require.True(t, fault.Is(err, fault.Invalid))

	platform := auth.GeneratePlatformToken()
	tokens, err := auth.NewTokens(g, platform)
	require.NoError(t, err)

	caller, err := auth.Credentials{Tokens: tokens}.Authenticate(ctx, "Bearer "+platform, "")
	require.NoError(t, err)
	require.True(t, caller.Platform)

	id, token, err := tokens.Issue(ctx, "acme")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(token, "mspz_"+id+"_"))
	caller, err = auth.Credentials{Tokens: tokens}.Authenticate(ctx, "bearer "+token, "")
	require.NoError(t, err)
	require.Equal(t, auth.Caller{MSP: "acme", TokenID: id}, caller)
	require.Equal(t, "token:"+id+"@acme", caller.String())

	// The secret is stored only as a hash.
	for _, rel := range dumpTokens(t, g) {
		require.NotContains(t, rel, token[len(token)-43:])
	}

	wrongSecret := token[:len(token)-1] + "A"
	if strings.HasSuffix(token, "A") {
		wrongSecret = token[:len(token)-1] + "B"
	}
	for name, header := range map[string]string{
		"missing":        "",
		"not bearer":     "Basic " + token,
		"no token":       "Bearer ",
		"wrong secret":   "Bearer " + wrongSecret,
		"unknown id":     "Bearer mspz_000000000000000000000000_" + token[len(token)-43:],
		"garbage":        "Bearer hello",
		"platform typo":  "Bearer " + platform + "x",
		"token in basic": token,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := auth.Credentials{Tokens: tokens}.Authenticate(ctx, header, "")
			require.Equal(t, fault.Unauthenticated, fault.KindOf(err), "%v", err)
		})
	}

	ids, err := tokens.List(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, []string{id}, ids)
	require.True(t, fault.Is(tokens.Revoke(ctx, "globex", id), fault.NotFound), "another MSP cannot revoke it")
	require.NoError(t, tokens.Revoke(ctx, "acme", id))
	_, err = auth.Credentials{Tokens: tokens}.Authenticate(ctx, "Bearer "+token, "")
	require.True(t, fault.Is(err, fault.Unauthenticated), "revoked: %v", err)
	require.True(t, fault.Is(tokens.Revoke(ctx, "acme", id), fault.NotFound))

	_, _, err = tokens.Issue(ctx, "nosuch")
	require.True(t, fault.Is(err, fault.NotFound))

	// Deleting an MSP revokes its tokens.
	_, token, err = tokens.Issue(ctx, "globex")
	require.NoError(t, err)
	_, err = auth.Credentials{Tokens: tokens}.Authenticate(ctx, "Bearer "+token, "")
	require.NoError(t, err, "now cached")
	require.NoError(t, svc.DeleteMSP(ctx, "globex"))
	require.Empty(t, dumpTokens(t, g))
	tokens.Forget("globex", "")
	_, err = auth.Credentials{Tokens: tokens}.Authenticate(ctx, "Bearer "+token, "")
	require.True(t, fault.Is(err, fault.Unauthenticated), "forgotten at once: %v", err)
	fresh, err := auth.NewTokens(g, platform)
	require.NoError(t, err)
	_, err = auth.Credentials{Tokens: fresh}.Authenticate(ctx, "Bearer "+token, "")
	require.True(t, fault.Is(err, fault.Unauthenticated))
}
func dumpTokens(t *testing.T, g graph.Graph) []string {
	t.Helper()
	rels, _, err := g.Read(context.Background(), graph.Filter{ResourceType: "api_token"}, graph.Full())
	require.NoError(t, err)
	out := make([]string, len(rels))
	for i, r := range rels {
		out[i] = r.String()
		if r.Caveat != nil {
			out[i] += " " + r.Attribute("secret_sha256")
		}
	}
	return out
}
