// Command hello is the smallest aws-lambda-go function, built like the three bootstraps:
// BenchmarkColdStart's yardstick for their init time and size.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "hello", nil })
}
