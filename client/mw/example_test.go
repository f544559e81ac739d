package mw_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"google.golang.org/grpc"

	"github.com/mspauthz/mspauthz/client"
	"github.com/mspauthz/mspauthz/client/mw"
)

func ExampleGuard_Require() {
	c, err := client.Dial("127.0.0.1:50051", client.WithInsecure(), client.WithToken("demo-platform-token-1234"))
	if err != nil {
		log.Fatal(err)
	}
	guard := mw.New(c, "acme", mw.WithUser(func(r *http.Request) (string, bool) {
		return r.Header.Get("X-User"), r.Header.Get("X-User") != "" // the application's own sign-in
	}))
	mux := http.NewServeMux()
	mux.Handle("POST /customers/{customer}/tickets", guard.Require("tickets.create", mw.CustomerFromPath("customer"))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "created; allowed through", mw.Decision(r.Context()).GetVia())
		})))
	log.Fatal(http.ListenAndServe("127.0.0.1:8090", mux))
}

func ExampleGuard_UnaryInterceptor() {
	c, err := client.Dial("127.0.0.1:50051", client.WithInsecure(), client.WithToken("demo-platform-token-1234"))
	if err != nil {
		log.Fatal(err)
	}
	guard := mw.New(c, "acme")
	type createTicket struct{ Customer string }
	server := grpc.NewServer(grpc.UnaryInterceptor(guard.UnaryInterceptor(map[string]mw.Rule{
		"/tickets.v1.Tickets/Create": {Permission: "tickets.create", Customer: func(req any) string { return req.(*createTicket).Customer }},
	}, func(ctx context.Context) (string, bool) {
		return "alex", true // the application's own authentication
	})))
	_ = server
}
