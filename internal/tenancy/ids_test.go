package tenancy_test

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// ValidID is IDPattern, written by hand: the two agree on edge cases and on
// random strings of the characters that matter.
func TestValidID_IsIDPattern(t *testing.T) {
	pattern := regexp.MustCompile("^" + tenancy.IDPattern + "$")
	ids := []string{"", "a", "0", "-", "_", "a-", "a_", "-a", "_a", "A", "zylker", "gen-large", "a/b", "a b", "é", strings.Repeat("a", 64), strings.Repeat("a", 65)}
	r := rand.New(rand.NewPCG(1, 1))
	const alphabet = "az09-_A/. \x00"
	for range 20000 {
		b := make([]byte, r.IntN(70))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		ids = append(ids, string(b))
	}
	for _, id := range ids {
		require.Equal(t, pattern.MatchString(id), tenancy.ValidID(id), "%q", id)
	}
}
