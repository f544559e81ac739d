package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"

	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// The listings, and who answers them.
const (
	CustomersOfUser = "customers of a user"
	UsersOfCustomer = "users of a customer"
	ByMSPAuthz      = "mspauthz (Go API, with paths)"
	BySpiceDB       = "SpiceDB lookup"
)

// Listing is one listing as one side answers it.
type Listing struct {
	What, By string
	Latency  Latency
	// Results is the mean number of results of a listing.
	Results float64
}

// lister answers one listing of (msp, id) and says how many results it has.
type lister func(ctx context.Context, msp, id string) (int, error)

// listings measures both listings, each against the SpiceDB lookup that
// answers the same question, alternating the two on the same random users
// and customers; both must find as many results.
func listings(ctx context.Context, cfg Config, rng *rand.Rand) ([]Listing, error) {
	domain, direct := cfg.App.Domain(), v1.NewPermissionsServiceClient(cfg.App.SpiceDB())
	full := &v1.Consistency{Requirement: &v1.Consistency_FullyConsistent{FullyConsistent: true}}
	p := cfg.Preset
	var out []Listing
	for _, l := range []struct {
		what         string
		pick         func() string
		mine, theirs lister
	}{
		{
			CustomersOfUser, func() string { return p.User(rng.IntN(p.Users)) },
			func(ctx context.Context, msp, user string) (int, error) {
				r, err := domain.CustomersOfUser(ctx, msp, user, "")
				if err != nil {
					return 0, err
				}
				return len(r.Access), nil
			},
			func(ctx context.Context, msp, user string) (int, error) {
				stream, err := direct.LookupResources(ctx, &v1.LookupResourcesRequest{
					Consistency: full, ResourceObjectType: "customer", Permission: tenancy.PermissionAccess,
					Subject: &v1.SubjectReference{Object: &v1.ObjectReference{ObjectType: "user", ObjectId: msp + "/" + user}},
				})
				return counted(stream, err)
			},
		},
		{
			UsersOfCustomer, func() string { return p.Customer(rng.IntN(p.Customers)) },
			func(ctx context.Context, msp, customer string) (int, error) {
				r, err := domain.UsersOfCustomer(ctx, msp, customer, "")
				if err != nil {
					return 0, err
				}
				return len(r.Access), nil
			},
			func(ctx context.Context, msp, customer string) (int, error) {
				stream, err := direct.LookupSubjects(ctx, &v1.LookupSubjectsRequest{
					Consistency: full, Permission: tenancy.PermissionAccess, SubjectObjectType: "user",
					Resource: &v1.ObjectReference{ObjectType: "customer", ObjectId: msp + "/" + customer},
				})
				return counted(stream, err)
			},
		},
	} {
		var mine, theirs []time.Duration
		results := 0
		for range cfg.ListingSamples {
			msp, id := p.MSPID(rng.IntN(p.MSPs)), l.pick()
			t := time.Now()
			n, err := l.theirs(ctx, msp, id)
			theirs = append(theirs, time.Since(t))
			if err != nil {
				return nil, fmt.Errorf("%s by SpiceDB: %w", l.what, err)
			}
			t = time.Now()
			m, err := l.mine(ctx, msp, id)
			mine = append(mine, time.Since(t))
			if err != nil {
				return nil, fmt.Errorf("%s by mspauthz: %w", l.what, err)
			}
			if m != n {
				return nil, fmt.Errorf("%s %s of %s: mspauthz lists %d, SpiceDB %d", l.what, id, msp, m, n)
			}
			results += n
		}
		mean := float64(results) / float64(max(1, cfg.ListingSamples))
		out = append(out, Listing{What: l.what, By: ByMSPAuthz, Latency: latencyOf(mine), Results: mean},
			Listing{What: l.what, By: BySpiceDB, Latency: latencyOf(theirs), Results: mean})
		cfg.say("%s: mspauthz p50 %s, SpiceDB p50 %s, %.0f results", l.what, out[len(out)-2].Latency.P50, out[len(out)-1].Latency.P50, mean)
	}
	return out, nil
}

// counted drains a lookup stream and counts its results; SpiceDB's lookups
// list a subject or resource once per answer, and these permissions carry
// no caveats.
func counted[R any](stream interface{ Recv() (R, error) }, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		_, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		n++
	}
}
