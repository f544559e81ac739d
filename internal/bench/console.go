package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mspauthz/mspauthz/fixtures"
	"github.com/mspauthz/mspauthz/internal/auth"
	"github.com/mspauthz/mspauthz/internal/tenancy"
)

// ConsolePage is one page of the console as the driver measured it: GETs
// (or a preview's POST) over loopback HTTP in the MSP owner's session, each
// answer checked for what the page must say.
type ConsolePage struct {
	What, Request string
	// Target is the bound on its time (0 for none).
	Target  time.Duration
	Latency Latency
	// Bytes is the size of its HTML.
	Bytes int
}

// ConsoleReport is the console's pages at the preset's sizes: the customer
// most users reach, the user who reaches most customers, and a preview
// that cuts PreviewPairs (user, customer) pairs.
type ConsoleReport struct {
	Customer, User       string
	Reachers, Reaches    int
	PreviewPairs, Rounds int
	Pages                []ConsolePage
}

// consoleTargets are the bounds of server time.
const (
	customerPageTarget = 100 * time.Millisecond
	previewTarget      = 300 * time.Millisecond
	pictureTarget      = 200 * time.Millisecond
)

// RunConsole loads the preset and measures only the console's pages.
func RunConsole(ctx context.Context, cfg Config) (*Report, error) {
	r := &Report{Preset: cfg.Preset, Backend: cfg.Backend, Machine: machine(cfg)}
	if err := loadIndexed(ctx, cfg, r); err != nil {
		return nil, err
	}
	r.Index.On = false // not measured here
	var err error
	r.Console, err = consolePages(ctx, cfg)
	return r, err
}

// consolePages measures the console's heaviest pages in the first MSP: the
// customer page and picture of the customer most users reach, the picture of
// the user who reaches most customers, and the preview of an Edit Customer
// Group that cuts 1,000 pairs. Every page is asked once before it is timed.
func consolePages(ctx context.Context, cfg Config) (*ConsoleReport, error) {
	domain, msp := cfg.App.Domain(), cfg.Preset.MSPID(0)
	customer, user, err := busiest(ctx, domain, cfg.Preset)
	if err != nil {
		return nil, err
	}
	cookie, err := cfg.App.Sessions().Open(ctx, msp, fixtures.OwnerUserID, "the load driver")
	if err != nil {
		return nil, fmt.Errorf("open a session: %w", err)
	}
	b := browser{base: "http://" + cfg.App.HTTPAddr(), cookie: cookie}
	users, customers := shape(1_000)
	group, selection, err := saveTarget(ctx, domain, msp, "console", users, customers)
	if err != nil {
		return nil, fmt.Errorf("prepare the preview: %w", err)
	}
	if _, err := domain.EditCustomerGroup(ctx, msp, group, selection, tenancy.SaveOptions{}); err != nil {
		return nil, fmt.Errorf("prepare the preview: %w", err)
	}
	out := &ConsoleReport{Customer: customer.id, Reachers: customer.n, User: user.id, Reaches: user.n, PreviewPairs: users * customers, Rounds: cmp.Or(cfg.ConsoleRounds, 30)}
	pages := []struct {
		what, method, path string
		form               url.Values
		target             time.Duration
		// says is what the page must say.
		says string
	}{
		{"customers, first page with reach counts", "GET", "/customers", nil, 0, "Users who reach it"},
		{fmt.Sprintf("customer page (Edit Customer Preferences), %d users reach it", customer.n), "GET", "/customers/" + customer.id, nil, customerPageTarget, "Edit Customer Preferences"},
		{fmt.Sprintf("picture of that customer (%d users)", customer.n), "GET", "/customers/" + customer.id + "/picture", nil, pictureTarget, fmt.Sprintf("%d users reach", customer.n)},
		{fmt.Sprintf("picture of a user who reaches %d customers", user.n), "GET", "/users/" + user.id + "/picture", nil, 0, fmt.Sprintf("%d customers", user.n)},
		{fmt.Sprintf("preview of Edit Customer Group cutting %d pairs (%d users × %d customers)", users*customers, users, customers), "POST", "/customerGroups/" + group + "/preview", url.Values{"selection": {"1"}}, previewTarget, "Who loses a customer"},
	}
	for _, p := range pages {
		page := ConsolePage{What: p.what, Request: p.method + " " + p.path, Target: p.target}
		var took []time.Duration
		for round := range out.Rounds + 1 {
			start := time.Now()
			body, err := b.do(ctx, p.method, p.path, p.form)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", p.method, p.path, err)
			}
			if !strings.Contains(body, p.says) {
				return nil, fmt.Errorf("%s %s does not say %q", p.method, p.path, p.says)
			}
			if round > 0 { // the first warms the caches
				took = append(took, time.Since(start))
			}
			page.Bytes = len(body)
		}
		page.Latency = latencyOf(took)
		cfg.say("console: %s: p50 %s, p95 %s, %d KiB", p.what, page.Latency.P50.Round(time.Microsecond), page.Latency.P95.Round(time.Microsecond), page.Bytes>>10)
		out.Pages = append(out.Pages, page)
	}
	return out, nil
}

// reachCount is an object and how many others it reaches or is reached by.
type reachCount struct {
	id string
	n  int
}

// busiest finds, in the preset's first MSP, the customer most users reach and
// the user who reaches most customers: the five likeliest of each by the
// sizes of their groups (the generator's data, made again), then counted
// exactly by the service.
func busiest(ctx context.Context, domain *tenancy.Service, p fixtures.Preset) (customer, user reachCount, err error) {
	b := p.MSP(0)
	customerWeight, userWeight := map[string]int{}, map[string]int{}
	for _, g := range b.CustomerGroups {
		for _, c := range g.Customers {
			customerWeight[c] += len(g.Members)
		}
		for _, u := range g.Members {
			userWeight[u] += len(g.Customers)
		}
	}
	top := func(weight map[string]int) []string {
		ids := make([]string, 0, len(weight))
		for id := range weight {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, func(a, b string) int { return cmp.Or(weight[b]-weight[a], strings.Compare(a, b)) })
		return ids[:min(5, len(ids))]
	}
	for _, c := range top(customerWeight) {
		r, err := domain.UsersOfCustomer(ctx, b.MSP.ID, c, "")
		if err != nil {
			return customer, user, err
		}
		if len(r.Access) > customer.n {
			customer = reachCount{c, len(r.Access)}
		}
	}
	for _, u := range top(userWeight) {
		r, err := domain.CustomersOfUser(ctx, b.MSP.ID, u, "")
		if err != nil {
			return customer, user, err
		}
		if len(r.Access) > user.n {
			user = reachCount{u, len(r.Access)}
		}
	}
	return customer, user, nil
}

// browser asks the console's pages as a signed-in browser would.
type browser struct {
	base, cookie string
}

func (b browser) do(ctx context.Context, method, path string, form url.Values) (string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, body)
	if err != nil {
		return "", err
	}
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: b.cookie})
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %.300s", resp.StatusCode, raw)
	}
	return string(raw), nil
}
