package tenancy

// MSP is a tenant: a Managed Service Provider.
type MSP struct {
	ID          string
	DisplayName string
	OwnerUserID string
}

// User is a person; MSP users belong to one MSP.
type User struct {
	ID          string
	DisplayName string
	// SingleCustomerID is the customer a single-customer user is confined to.
	SingleCustomerID string
	// Origin is OriginLocal, or the connected system that created the user.
	Origin string
	// ExternalID is how identity providers name him ("" for none): the
	// value of the claim their tokens name users by.
	ExternalID string
	// CustomerGroups and SecurityGroups are the user's memberships, with
	// their origins.
	CustomerGroups []Membership
	SecurityGroups []Membership
}

// Membership is a member of a group, with its origin. ID names the other
// end: the group in a user's list, the user in a group's.
type Membership struct {
	ID     string
	Origin string
}

// Customer is an end-customer account of an MSP.
type Customer struct {
	ID          string
	DisplayName string
	// Preferences is what the Edit Customer Preferences form shows; nil when
	// not read (the basic view, or an actor who may not manage customers).
	Preferences *CustomerPreferences
}

// CustomerGroup is a named set of customers.
type CustomerGroup struct {
	ID          string
	DisplayName string
	// Origin is OriginLocal, or the connected system that created the group.
	Origin string
	// Members are the group's users with their memberships' origins.
	Members []Membership
	// Customers are the group's customers.
	Customers []string
}

// AlertGroup is a customer's user alert group: the users alerted for it.
type AlertGroup struct {
	CustomerID   string
	AlertGroupID string
	Contacts     []string
}

// Pair is a (user, customer) pair of one MSP.
type Pair struct {
	UserID     string
	CustomerID string
}

// RetainedPair is a pair that lost a path and kept access through Via.
type RetainedPair struct {
	Pair
	Via []string
}

// AlertContactRemoval is a user taken off a customer's alert group because a
// save dissociated him from that customer.
type AlertContactRemoval struct {
	Pair
	AlertGroupID string
}

// Report is what a save did to access, computed by SpiceDB at the revision of
// the save's own write (or, for validateOnly, predicted at the revision read).
type Report struct {
	// WrittenAt is the ZedToken of the save's write; empty when nothing was written.
	WrittenAt string
	// Associated pairs had no access before the save and have it after.
	Associated []Pair
	// Dissociated pairs lost their last path.
	Dissociated []Pair
	// Retained pairs lost a path and kept access through another.
	Retained []RetainedPair
	// AlertContactsRemoved lists dissociated users taken off the customer's alert groups.
	AlertContactsRemoved []AlertContactRemoval
}

// BlockReason says why a guard refused a save.
type BlockReason string

const (
	// BlockAccountContact: the user is the customer's Account Contact.
	BlockAccountContact BlockReason = "ACCOUNT_CONTACT"
	// BlockLastAlertGroupContact: the user is the last contact of one of the customer's alert groups.
	BlockLastAlertGroupContact BlockReason = "LAST_ALERT_GROUP_CONTACT"
	// BlockAccountOwner: the user is the MSP's account owner.
	BlockAccountOwner BlockReason = "ACCOUNT_OWNER"
	// BlockNotAssociated: the user does not reach the customer he is made a contact of.
	BlockNotAssociated BlockReason = "NOT_ASSOCIATED"
	// BlockRoleInUse: a security group still binds the role being deleted.
	BlockRoleInUse BlockReason = "ROLE_IN_USE"
	// BlockSingleCustomer: the user is confined to one customer (seed 004).
	BlockSingleCustomer BlockReason = "SINGLE_CUSTOMER"
	// BlockLastBuiltinAdministrator: the last built-in administrator of a
	// domain whose partner access is off cannot go.
	BlockLastBuiltinAdministrator BlockReason = "LAST_BUILTIN_ADMINISTRATOR"
	// BlockPartnerAccessDisabled: Login As refused, the customer switched partner access off.
	BlockPartnerAccessDisabled BlockReason = "PARTNER_ACCESS_DISABLED"
	// BlockNotPermitted: Login As refused, the user holds no customers.login_as there.
	BlockNotPermitted BlockReason = "NOT_PERMITTED"
	// BlockCustomerConsentRequired: a decision of the customer's own (its
	// partner access, its grants) made by anyone but one of its built-in
	// administrators with his own credential.
	BlockCustomerConsentRequired BlockReason = "CUSTOMER_CONSENT_REQUIRED"
)

// Block is one reason a save was refused: a user who would lose his last path
// to a customer that needs him.
type Block struct {
	UserID          string
	CustomerID      string
	Reason          BlockReason
	AlertGroupID    string
	SecurityGroupID string
}

// Access is a user's access to a customer and every path that grants it.
type Access struct {
	Pair
	Via []string
}
