package dynamo

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/storetest"
)

// newTable is a fresh table on moto and a client for it.
func newTable(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	api := dynamodb.NewFromConfig(awstest.Config(t))
	name := awstest.Name(t, "rw")
	if err := CreateTable(awstest.Context(t), api, name); err != nil {
		t.Fatal(err)
	}
	return api, name
}

// The ports the contract suites below test, checked when this file compiles (fresh asserts them
// at run time).
var (
	_ reply.Store           = (*Store)(nil)
	_ reply.Cursors         = (*Store)(nil)
	_ reply.Webhooks        = (*Store)(nil)
	_ storetest.ClickStore  = (*Store)(nil)
	_ storetest.OutboxStore = (*Store)(nil)
	_ storetest.LeadStore   = (*Store)(nil)
	_ storetest.CountStore  = (*Store)(nil)
)

// fresh is a store on a fresh table, as the port S a contract suite tests.
func fresh[S any](t *testing.T) S {
	api, name := newTable(t)
	return any(New(api, name)).(S)
}

func TestStoreContract(t *testing.T) {
	storetest.Run(t, fresh[reply.Store])
}

func TestCursorsContract(t *testing.T) {
	storetest.Cursors(t, fresh[reply.Cursors])
}

func TestClicksContract(t *testing.T) {
	storetest.Clicks(t, fresh[storetest.ClickStore])
}

func TestOutboxContract(t *testing.T) {
	storetest.Outbox(t, fresh[storetest.OutboxStore])
}

func TestLeadsContract(t *testing.T) {
	storetest.Leads(t, fresh[storetest.LeadStore])
}

func TestWebhooksContract(t *testing.T) {
	storetest.Webhooks(t, fresh[reply.Webhooks])
}

func TestCountsContract(t *testing.T) {
	storetest.Counts(t, fresh[storetest.CountStore])
}
