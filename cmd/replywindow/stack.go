package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// One flag per stack: --stack NAME (or REPLYWINDOW_STACK) reads the stack's outputs from
// CloudFormation and stands them in for the variables every command reads, so no command needs
// four of them. The outputs win over those variables (a TABLE_NAME left from another stack must
// not send the command there); a command's own flags win over both.

// opEnvStack names the stack when --stack is not given.
const opEnvStack = "REPLYWINDOW_STACK"

// opStackOutputs maps the template's outputs to the variables the commands read.
var opStackOutputs = map[string]string{
	"TableName":          "TABLE_NAME",
	"QueueUrl":           "QUEUE_URL",
	"DeadLetterQueueUrl": "DLQ_URL",
	"TokenPathPrefix":    "TOKEN_PATH_PREFIX",
}

// opStackEnv holds the current stack's variables while a command runs (nil: no stack).
var opStackEnv map[string]string

// opGetenv is what the commands read their environment through: the stack's outputs first.
func opGetenv(k string) string {
	if v, ok := opStackEnv[k]; ok {
		return v
	}
	return os.Getenv(k)
}

// opTakeStack removes --stack NAME (or --stack=NAME) from args, wherever it is, and returns the
// stack's name (REPLYWINDOW_STACK when the flag is absent). ok is false for a --stack without a
// name.
func opTakeStack(args []string) (rest []string, stack string, ok bool) {
	stack = os.Getenv(opEnvStack)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		switch {
		case a == "--stack" || a == "-stack":
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "-") || args[i+1] == "" {
				return nil, "", false
			}
			stack = args[i+1]
			i++
		case strings.HasPrefix(a, "--stack=") || strings.HasPrefix(a, "-stack="):
			_, stack, _ = strings.Cut(a, "=")
			if stack == "" {
				return nil, "", false
			}
		default:
			rest = append(rest, a)
		}
	}
	return rest, stack, true
}

// opCFN is the part of the CloudFormation client the stack lookup uses.
type opCFN interface {
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// opStackVars reads the stack's outputs and returns the variables they stand for. Every output
// the commands need must be there: a stack without them is not a replywindow stack (or one
// still being created).
func opStackVars(ctx context.Context, cfn opCFN, name, region string) (map[string]string, error) {
	out, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return nil, fmt.Errorf("stack %s does not exist in %s (check --stack or %s, AWS_REGION and AWS_PROFILE)", name, region, opEnvStack)
		}
		return nil, opAWSError("stack "+name, err)
	}
	if len(out.Stacks) == 0 {
		return nil, fmt.Errorf("stack %s does not exist in %s (check --stack or %s, AWS_REGION and AWS_PROFILE)", name, region, opEnvStack)
	}
	got := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		got[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	vars := map[string]string{}
	var missing []string
	for output, env := range opStackOutputs {
		v := got[output]
		if v == "" {
			missing = append(missing, output)
			continue
		}
		vars[env] = v
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("stack %s (%s) lacks the output(s) %s: is it a replywindow stack, deployed from this version's template.yaml?",
			name, out.Stacks[0].StackStatus, strings.Join(missing, ", "))
	}
	return vars, nil
}

// opUseStack sets the commands' variables from the stack named in args or REPLYWINDOW_STACK,
// and returns the arguments without --stack. ok is false when the command must stop with code.
func opUseStack(ctx context.Context, args []string, stderr io.Writer) (rest []string, code int, ok bool) {
	opStackEnv = nil
	rest, stack, good := opTakeStack(args)
	if !good {
		fmt.Fprintln(stderr, "replywindow: --stack needs the stack's name (e.g. --stack replywindow-prod)")
		return nil, exitUsage, false
	}
	if stack == "" {
		return rest, 0, true
	}
	cfg, err := opAWS(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "replywindow: stack %s: %v\n", stack, opAWSError("aws configuration", err))
		return nil, exitFail, false
	}
	vars, err := opStackVars(ctx, cloudformation.NewFromConfig(cfg), stack, cfg.Region)
	if err != nil {
		fmt.Fprintf(stderr, "replywindow: %v\n", err)
		return nil, exitFail, false
	}
	opStackEnv = vars
	return rest, 0, true
}
