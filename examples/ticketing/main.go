// Command ticketing is a tiny ticketing service guarded by mspauthz: it lists
// the tickets of the customers a person reaches and creates one where he may
// (tickets.create). It knows a person by the X-User header: a stand-in for
// an application's own sign-in.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"sync"

	"github.com/mspauthz/mspauthz/client"
	"github.com/mspauthz/mspauthz/client/mw"
)

// Ticket is one ticket of a customer.
type Ticket struct {
	Customer string `json:"customer"`
	Title    string `json:"title"`
	By       string `json:"by"`
	// Via is how mspauthz let its author create it.
	Via []string `json:"via"`
}

// desk holds the tickets, by customer.
type desk struct {
	mu      sync.Mutex
	tickets map[string][]Ticket
}

func main() {
	target := flag.String("mspauthz", "127.0.0.1:50051", "mspauthz's gRPC address (loopback: no TLS)")
	msp := flag.String("msp", "acme", "the MSP whose people use the desk")
	addr := flag.String("addr", "127.0.0.1:8090", "where the desk listens")
	flag.Parse()
	c, err := client.Dial(*target, client.WithInsecure(), client.WithToken(os.Getenv("MSPAUTHZ_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	user := func(r *http.Request) (string, bool) { return r.Header.Get("X-User"), r.Header.Get("X-User") != "" }
	guard := mw.New(c, *msp, mw.WithUser(user))
	d := &desk{tickets: map[string][]Ticket{}}

	mux := http.NewServeMux()
	// The tickets of every customer the person reaches.
	mux.HandleFunc("GET /tickets", func(w http.ResponseWriter, r *http.Request) {
		who, ok := user(r)
		if !ok {
			http.Error(w, "sign in first (X-User)", http.StatusUnauthorized)
			return
		}
		reach, err := c.CustomersOf(client.OnBehalfOf(r.Context(), who), *msp, who)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		out := []Ticket{}
		for _, a := range reach.GetCustomers() {
			out = append(out, d.tickets[a.GetCustomerId()]...)
		}
		_ = json.NewEncoder(w).Encode(out)
	})
	// A new ticket, where the person may create one.
	mux.Handle("POST /customers/{customer}/tickets", guard.Require("tickets.create", mw.CustomerFromPath("customer"))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			who, _ := user(r)
			t := Ticket{Customer: r.PathValue("customer"), Title: r.FormValue("title"), By: who, Via: mw.Decision(r.Context()).GetVia()}
			d.mu.Lock()
			d.tickets[t.Customer] = append(d.tickets[t.Customer], t)
			d.mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(t)
		})))
	log.Printf("ticketing listens on http://%s", *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}
