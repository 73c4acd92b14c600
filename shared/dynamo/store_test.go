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

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) reply.Store {
		api, name := newTable(t)
		return New(api, name)
	})
}

func TestCursorsContract(t *testing.T) {
	storetest.Cursors(t, func(t *testing.T) reply.Cursors {
		api, name := newTable(t)
		return New(api, name)
	})
}

func TestClicksContract(t *testing.T) {
	storetest.Clicks(t, func(t *testing.T) storetest.ClickStore {
		api, name := newTable(t)
		return New(api, name)
	})
}

func TestOutboxContract(t *testing.T) {
	storetest.Outbox(t, func(t *testing.T) storetest.OutboxStore {
		api, name := newTable(t)
		return New(api, name)
	})
}

func TestLeadsContract(t *testing.T) {
	storetest.Leads(t, func(t *testing.T) storetest.LeadStore {
		api, name := newTable(t)
		return New(api, name)
	})
}

func TestWebhooksContract(t *testing.T) {
	storetest.Webhooks(t, func(t *testing.T) reply.Webhooks {
		api, name := newTable(t)
		return New(api, name)
	})
}

func TestCountsContract(t *testing.T) {
	storetest.Counts(t, func(t *testing.T) storetest.CountStore {
		api, name := newTable(t)
		return New(api, name)
	})
}
