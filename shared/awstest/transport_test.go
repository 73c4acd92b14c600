package awstest

import (
	"encoding/json"
	"testing"
)

func TestAnswer(t *testing.T) {
	tests := []struct {
		target, body string
		ok           bool
	}{
		{"DynamoDB_20120810.PutItem", `{"TableName":"t"}`, true},
		{"DynamoDB_20120810.PutItem", `{"TableName":"t","ReturnValues":"ALL_OLD"}`, false},
		{"DynamoDB_20120810.DeleteItem", `{"TableName":"t"}`, true},
		{"DynamoDB_20120810.GetItem", `{"TableName":"t"}`, false},
		{"AmazonSQS.ReceiveMessage", `{}`, false},
		{"AmazonSQS.SendMessageBatch", `{"Entries":[{"Id":"0","MessageBody":"hello"}]}`, true},
	}
	for _, tt := range tests {
		got, ok := answer(tt.target, []byte(tt.body))
		if ok != tt.ok {
			t.Errorf("%s %s: ok = %v", tt.target, tt.body, ok)
		}
		if ok && !json.Valid(got) {
			t.Errorf("%s: invalid JSON %s", tt.target, got)
		}
	}
	got, _ := answer("AmazonSQS.SendMessageBatch", []byte(`{"Entries":[{"Id":"0","MessageBody":"hello"}]}`))
	if want := `{"Successful":[{"Id":"0","MessageId":"cut-off-0","MD5OfMessageBody":"5d41402abc4b2a76b9719d911017c592"}]}`; string(got) != want {
		t.Errorf("SendMessageBatch answer = %s, want %s", got, want)
	}
}
