package bench

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/mspauthz/mspauthz/internal/graph"
	"github.com/mspauthz/mspauthz/internal/spicedb"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// Save is the Edit Customer Group form saved on a group of Users members,
// selecting or dropping Customers customers: Users × Customers pairs gain or
// lose access per save, each proved by SpiceDB at the write's revision.
type Save struct {
	Pairs, Users, Customers int
	// Saves is how many were measured; Took their mean time, Calls their
	// mean number of SpiceDB calls.
	Saves int
	Took  time.Duration
	Calls float64
}

// PerPair is a save's mean time per affected pair.
func (s Save) PerPair() time.Duration { return s.Took / time.Duration(s.Pairs) }

// saves measures, for each size, saves that alternately associate and
// dissociate a fresh group's customers, amid the preset's data (in its first
// MSP), through a domain that counts its SpiceDB calls.
func saves(ctx context.Context, cfg Config) ([]Save, error) {
	counting := &graph.Counting{Graph: spicedb.NewGraph(cfg.App.SpiceDB())}
	domain := tenancy.New(counting)
	msp := cfg.Preset.MSPID(0)
	var out []Save
	for _, pairs := range cfg.SavePairs {
		users, customers := shape(pairs)
		group, selection, err := saveTarget(ctx, domain, msp, "bench", users, customers)
		if err != nil {
			return nil, fmt.Errorf("prepare a save of %d pairs: %w", pairs, err)
		}
		s := Save{Pairs: pairs, Users: users, Customers: customers}
		var took time.Duration
		var calls int64
		for round := range 2 * cfg.SaveRounds {
			choice := selection
			if round%2 == 1 {
				choice = nil
			}
			counting.Reset()
			start := time.Now()
			rep, err := domain.EditCustomerGroup(ctx, msp, group, choice, tenancy.SaveOptions{AllowEmpty: true})
			took += time.Since(start)
			calls += counting.Calls()
			if err != nil {
				return nil, fmt.Errorf("save of %d pairs: %w", pairs, err)
			}
			if got := len(rep.Associated) + len(rep.Dissociated); got != pairs {
				return nil, fmt.Errorf("save of %d pairs affected %d", pairs, got)
			}
			s.Saves++
		}
		s.Took, s.Calls = took/time.Duration(s.Saves), float64(calls)/float64(s.Saves)
		cfg.say("save of %5d pairs (%d users × %d customers): %s a save, %s a pair, %.0f SpiceDB calls", pairs, users, customers, s.Took.Round(time.Microsecond), s.PerPair(), s.Calls)
		out = append(out, s)
	}
	return out, nil
}

// shape splits pairs into users × customers, as square as it divides.
func shape(pairs int) (users, customers int) {
	for users = int(math.Sqrt(float64(pairs))); users > 1 && pairs%users != 0; users-- {
	}
	return users, pairs / users
}

// saveTarget creates a customer group of fresh users and fresh customers
// (not selected yet) for a save of users × customers pairs, their ids
// starting with name.
func saveTarget(ctx context.Context, domain *tenancy.Service, msp, name string, users, customers int) (string, []string, error) {
	prefix := fmt.Sprintf("%s-%dx%d", name, users, customers)
	group := prefix
	if _, err := domain.CreateCustomerGroup(ctx, msp, tenancy.CustomerGroup{ID: group, DisplayName: "Benchmark " + prefix}); err != nil {
		return "", nil, err
	}
	for i := range users {
		id := fmt.Sprintf("%s-u%d", prefix, i)
		if _, err := domain.CreateUser(ctx, msp, tenancy.User{ID: id, DisplayName: id}); err != nil {
			return "", nil, err
		}
		if _, err := domain.EditUser(ctx, msp, id, []string{group}, tenancy.SaveOptions{}); err != nil {
			return "", nil, err
		}
	}
	selection := make([]string, customers)
	for i := range selection {
		selection[i] = fmt.Sprintf("%s-c%d", prefix, i)
		if _, err := domain.CreateCustomer(ctx, msp, tenancy.Customer{ID: selection[i], DisplayName: selection[i]}); err != nil {
			return "", nil, err
		}
	}
	return group, selection, nil
}
