package client_test

import (
	"context"
	"fmt"
	"log"
	"os"

	mspauthzv1 "github.com/mspauthz/mspauthz/api/mspauthz/v1"
	"github.com/mspauthz/mspauthz/client"
)

// The examples run against `mspauthz serve --fixtures fixtures/demo.yaml`
// with MSPAUTHZ_ADMIN_TOKEN=demo-platform-token-1234 (the README's tour).
func dial() *client.Client {
	c, err := client.Dial("127.0.0.1:50051", client.WithInsecure(), client.WithToken(os.Getenv("MSPAUTHZ_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	return c
}

func ExampleDial() {
	// Over TLS (the default) with a JWT of the caller's identity provider.
	c, err := client.Dial("mspauthz.example.com:443", client.WithTokenSource(func(ctx context.Context) (string, error) {
		return os.Getenv("ID_TOKEN"), nil // renew it here
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
}

func ExampleClient_Check() {
	c := dial()
	d, err := c.Check(context.Background(), "acme", &client.Question{
		Resource: client.Customer("zylker"), Permission: "tickets.create", Subject: client.User("alex"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.GetAllowed(), d.GetVia())
}

func ExampleClient_BulkCheck() {
	c := dial()
	ds, err := c.BulkCheck(context.Background(), "acme",
		&client.Question{Resource: client.Customer("zylker"), Permission: "access", Subject: client.User("bob")},
		&client.Question{Resource: client.Customer("initech"), Permission: "access", Subject: client.User("bob")})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range ds.GetResults() {
		fmt.Println(r.GetAllowed(), r.GetVia())
	}
}

func ExampleClient_CustomersOf() {
	c := dial()
	reach, err := c.CustomersOf(context.Background(), "acme", "bob")
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range reach.GetCustomers() {
		fmt.Println(a.GetCustomerId(), a.GetVia())
	}
}

func ExampleClient_UsersOf() {
	c := dial()
	reach, err := c.UsersOf(context.Background(), "acme", "zylker")
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range reach.GetUsers() {
		fmt.Println(a.GetUserId(), a.GetVia())
	}
}

func ExampleClient_Explain() {
	c := dial()
	e, err := c.Explain(context.Background(), "acme", &client.Question{Resource: client.Customer("zylker"), Permission: "access", Subject: client.User("bob")})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range e.GetMissing() {
		fmt.Println(m.GetReason(), m.GetMessage())
	}
}

func ExampleClient_EditCustomerPreferences() {
	c := dial()
	// Preview: who would lose Zylker if Zoho were unticked?
	report, err := c.EditCustomerPreferences(context.Background(), &mspauthzv1.EditCustomerPreferencesRequest{
		MspId: "acme", CustomerId: "zylker", CustomerGroups: []string{"site24x7"}, Users: []string{"carol"}, ValidateOnly: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report.GetDissociated(), report.GetRetained())
}

func ExampleClient_EditCustomerGroup() {
	c := dial()
	report, err := c.EditCustomerGroup(context.Background(), &mspauthzv1.EditCustomerGroupRequest{
		MspId: "acme", CustomerGroupId: "zoho", Customers: []string{"zylker", "globex"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report.GetWrittenAt())
}

func ExampleClient_EditUser() {
	c := dial()
	_, err := c.EditUser(context.Background(), &mspauthzv1.EditUserRequest{MspId: "acme", UserId: "alex", AllowEmpty: true})
	for _, b := range client.GuardBlocks(err) { // Alex is Zylker's Account Contact
		fmt.Println(b.GetReason(), b.GetUserId(), b.GetCustomerId())
	}
}

func ExampleGuardBlocks() {
	c := dial()
	_, err := c.EditUser(context.Background(), &mspauthzv1.EditUserRequest{MspId: "acme", UserId: "alex", AllowEmpty: true})
	switch {
	case len(client.GuardBlocks(err)) > 0:
		fmt.Println("refused, nothing written:", client.GuardBlocks(err)[0].GetReason())
	case client.IsNotFound(err):
		fmt.Println("no such user")
	case client.IsConflict(err), client.IsUnavailable(err):
		fmt.Println("try again later")
	}
}

func ExampleSession() {
	c := dial()
	// A session per signed-in person, kept in the web session as a string.
	session, err := client.ImportSession("") // "" is a new one
	if err != nil {
		log.Fatal(err)
	}
	ctx := client.WithSession(context.Background(), session)
	if _, err := c.EditCustomerPreferences(ctx, &mspauthzv1.EditCustomerPreferencesRequest{
		MspId: "acme", CustomerId: "zylker", CustomerGroups: []string{"site24x7"}, Users: []string{"carol"},
	}); err != nil {
		log.Fatal(err)
	}
	// Sent with the save's writtenAt: it never sees Bob's old access, on any replica.
	d, err := c.Check(ctx, "acme", &client.Question{Resource: client.Customer("zylker"), Permission: "access", Subject: client.User("bob")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.GetAllowed(), session.Export())
}
