package tenancy

import (
	"strconv"
	"strings"

	"github.com/mspauthz/mspauthz/internal/fault"
	"github.com/mspauthz/mspauthz/internal/graph"
)

// The object types and relations of schema/msp.zed.
const (
	typeMSP            = "msp"
	typeUser           = "user"
	typeCustomer       = "customer"
	typeCustomerGroup  = "customer_group"
	typeUserAlertGroup = "user_alert_group"
	typeSaveEpoch      = "save_epoch"
	typeAPIToken       = "api_token"
	typeRole           = "role"
	typeSecurityGroup  = "security_group"
	typeWindow         = "maintenance_window"
	typeOutageComment  = "outage_comment"
	typeMonitorGroup   = "monitor_group"
	typeMonitor        = "monitor"
	typeGrant          = "grant"
	typeSyncOrigin     = "sync_origin"

	relMSP                    = "msp"
	relOwner                  = "owner"
	relMember                 = "member"
	relSaveEpoch              = "save_epoch"
	relAttributes             = "attributes"
	relDirect                 = "direct"
	relCustomerGroup          = "customer_group"
	relAccountContact         = "account_contact"
	relCustomer               = "customer"
	relContact                = "contact"
	relRole                   = "role"
	relSecurityGroup          = "security_group"
	relAllCustomersSG         = "all_customers_security_group"
	relAssociatedSG           = "associated_security_group"
	relConfines               = "confines"
	relEndCustomer            = "end_customer_user"
	relRoleSelection          = "end_customer_role_selection"
	relSyncCreatesNoCustomers = "sync_creates_no_customers"
	relCreator                = "creator"
	relModifiedByOther        = "modified_by_other"
	relSpokesperson           = "spokesperson"
	relMonitorGroup           = "monitor_group"
	relOwnDomain              = "own_domain"
	relPartnerOff             = "partner_access_off"
	relGrant                  = "grant"
	relSyncedMember           = "synced_member"
	relSystemCustomer         = "system_customer"
	relDrifted                = "drifted"
	relDeletedHere            = "deleted_here"
	relDetached               = "detached"

	// PermissionAccess is the permission "this user reaches this customer".
	PermissionAccess = "access"
	// permissionVisible is "this MSP user may know of this customer".
	permissionVisible = "visible"

	// attrDisplayName is the attribute that holds an object's display name.
	attrDisplayName = "display_name"
	// attrOrigin is the attribute that names the connected system an object
	// came from; a local object has none.
	attrOrigin = "origin"
)

// IDPattern is the pattern every id of the API matches.
const IDPattern = `[a-z0-9][a-z0-9_-]{0,63}`

// ValidID reports whether id matches the id pattern of the API.
func ValidID(id string) bool {
	// IDPattern by hand: every check validates several ids, and a regexp
	// match was a tenth of an indexed check's time (ids_test.go holds the two equal).
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// InvalidID is the Invalid error of an id, given in field, that breaks the id pattern.
func InvalidID(field, id string) error {
	return fault.New(fault.Invalid, "%s: %q is not a valid id (lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 64 characters)", field, id)
}

// checkID returns an Invalid error naming field when id breaks the id pattern.
func checkID(field, id string) error {
	if !ValidID(id) {
		return InvalidID(field, id)
	}
	return nil
}

// checkSelection checks every id of a form's selection and refuses repeats.
func checkSelection(field string, ids []string) error {
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if err := checkID(field+"["+strconv.Itoa(i)+"]", id); err != nil {
			return err
		}
		if seen[id] {
			return fault.New(fault.Invalid, "%s: %q is selected twice", field, id)
		}
		seen[id] = true
	}
	return nil
}

// Objects of one MSP carry the MSP id as a prefix: "<msp>/<id>".
func mspObject(msp string) graph.Object { return graph.Object{Type: typeMSP, ID: msp} }

func scoped(typ, msp, id string) graph.Object { return graph.Object{Type: typ, ID: msp + "/" + id} }

func userObject(msp, id string) graph.Object { return scoped(typeUser, msp, id) }

func customerObject(msp, id string) graph.Object { return scoped(typeCustomer, msp, id) }

func customerGroupObject(msp, id string) graph.Object { return scoped(typeCustomerGroup, msp, id) }

func alertGroupObject(msp, customer, id string) graph.Object {
	return graph.Object{Type: typeUserAlertGroup, ID: msp + "/" + customer + "/" + id}
}

// customerObjectPrefix is the id prefix of every object that belongs to one
// customer: its alert groups, maintenance windows, outage comments, monitor
// groups and monitors.
func customerObjectPrefix(msp, customer string) string { return msp + "/" + customer + "/" }

// customerObjectOf is an object that belongs to one customer: typ:<msp>/<customer>/<id>.
func customerObjectOf(typ, msp, customer, id string) graph.Object {
	return graph.Object{Type: typ, ID: customerObjectPrefix(msp, customer) + id}
}

// customerTypes are the types of objects that belong to one customer.
var customerTypes = []string{typeUserAlertGroup, typeWindow, typeOutageComment, typeMonitorGroup, typeMonitor}

// localID strips the MSP prefix from an object id of msp.
func localID(msp, id string) string { return strings.TrimPrefix(id, msp+"/") }

// customerObjectIDs splits the id of an object that belongs to one customer
// into its customer and its own id.
func customerObjectIDs(msp, id string) (customer, object string) {
	customer, object, _ = strings.Cut(localID(msp, id), "/")
	return customer, object
}

// The relationships that make an object and the edges between objects, as
// CreateMSP, the Create calls, the forms and the bulk import write them.

// mspRels are an MSP's own relationships: its save epoch, account owner,
// first member and display name. The owner's user object is separate.
func mspRels(m MSP) []graph.Relationship {
	msp, owner := mspObject(m.ID), userObject(m.ID, m.OwnerUserID)
	return []graph.Relationship{
		graph.Rel(msp, relSaveEpoch, graph.Object{Type: typeSaveEpoch, ID: newEpochID()}),
		graph.Rel(msp, relOwner, owner),
		graph.Rel(msp, relMember, owner),
		attributesOf(msp, m.ID, m.DisplayName),
	}
}

// objectRels make obj an object of msp with its display name.
func objectRels(obj graph.Object, msp, displayName string) []graph.Relationship {
	return []graph.Relationship{graph.Rel(obj, relMSP, mspObject(msp)), attributesOf(obj, msp, displayName)}
}

func customerInGroup(msp, customer, group string) graph.Relationship {
	return graph.Rel(customerObject(msp, customer), relCustomerGroup, customerGroupObject(msp, group))
}

func groupMember(msp, group, user string) graph.Relationship {
	return graph.Rel(customerGroupObject(msp, group), relMember, userObject(msp, user))
}

func directUser(msp, customer, user string) graph.Relationship {
	return graph.Rel(customerObject(msp, customer), relDirect, userObject(msp, user))
}

func accountContact(msp, customer, user string) graph.Relationship {
	return graph.Rel(customerObject(msp, customer), relAccountContact, userObject(msp, user))
}

func alertGroupCustomer(alertGroup graph.Object, msp, customer string) graph.Relationship {
	return graph.Rel(alertGroup, relCustomer, customerObject(msp, customer))
}

func alertGroupContact(alertGroup graph.Object, msp, user string) graph.Relationship {
	return graph.Rel(alertGroup, relContact, userObject(msp, user))
}
