package dynamo

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
)

// TestClickRecordItem: a person's click record of a link is listed under its account in
// IndexList and carries the table's TTL, the link's Until; a repeat click writes nothing; a
// malformed record is an error naming it, not a silent row.
func TestClickRecordItem(t *testing.T) {
	api, name := newTable(t)
	s := New(api, name)
	ctx := awstest.Context(t)
	at := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
	o := reply.Origin{Account: "17841400000000001", Rule: "recipe", Person: "9000000000000001"}
	clicks := []struct {
		link  string
		at    time.Time
		until time.Time
	}{
		{"Lk1", at, at.Add(366 * 24 * time.Hour)},
		{"Lk2", at.Add(time.Hour), at.Add(400 * 24 * time.Hour)},
		{"Lk1", at.Add(2 * time.Hour), at.Add(500 * 24 * time.Hour)}, // a repeat: nothing written
	}
	for _, c := range clicks {
		if _, err := s.RecordClick(ctx, reply.Click{Origin: o, Link: c.link, Target: "https://shop.example/" + c.link,
			At: c.at, Issued: at.Add(-time.Hour), Until: c.until}); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range clicks[:2] {
		key := reply.ClickGuardKey(o.Account, o.Person, c.link)
		out, err := api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(name), Key: pkey(key), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{AttrList: "CLICK#" + o.Account, "person": o.Person, "account": o.Account, "link": c.link}
		for a, v := range want {
			if got, ok := out.Item[a].(*types.AttributeValueMemberS); !ok || got.Value != v {
				t.Errorf("%s: %s: %v, want %q", key, a, out.Item[a], v)
			}
		}
		wantAt, wantExp := num(c.at.UnixMilli()).(*types.AttributeValueMemberN).Value, num(c.until.Unix()).(*types.AttributeValueMemberN).Value
		if got, ok := out.Item["at"].(*types.AttributeValueMemberN); !ok || got.Value != wantAt {
			t.Errorf("%s: at %v, want the first click's %s (click %d)", key, out.Item["at"], wantAt, i)
		}
		if got, ok := out.Item[AttrExpiresAt].(*types.AttributeValueMemberN); !ok || got.Value != wantExp {
			t.Errorf("%s: %s %v, want the link's until %s", key, AttrExpiresAt, out.Item[AttrExpiresAt], wantExp)
		}
	}

	bad := map[string]types.AttributeValue{AttrPK: str(reply.ClickGuardKey(o.Account, "9000000000000002", "Lk9")), AttrList: str(clickList(o.Account)),
		"account": str(o.Account), "person": str("9000000000000002"), "link": str("Lk9")} // no time
	if _, err := api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: bad}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ClickedBy(ctx, o.Account, "", 10); err == nil {
		t.Error("a click record without its time was read without an error")
	}
}
