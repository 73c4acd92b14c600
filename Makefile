# replywindow — build, test and run. `make demo` runs the product locally; `make test` is what CI runs.
SHELL := /bin/bash
GO ?= go
PKGS := ./...
FUNCTIONS := webhook replier sweeper
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Lambda's provided.al2023 on Graviton: a static arm64 binary named bootstrap. lambda.norpc drops
# the legacy Go RPC runtime the provided runtimes never use; -s -w strips it.
LAMBDA_BUILD := CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -tags lambda.norpc -ldflags "-s -w"
FUZZTIME ?= 10s
BENCHTIME ?= 1s
SOAKTIME ?= 30m
CONFIG_ENV ?= default

.PHONY: build build-WebhookFunction build-ReplierFunction build-SweeperFunction \
	test unit lint fmt-check vet staticcheck cfn-lint bench fuzz soak \
	events invoke-webhook invoke-replier invoke-sweeper deploy demo cli clean

## build: the three Lambda bootstraps into bin/<function>/bootstrap
build:
	@set -e; for fn in $(FUNCTIONS); do \
	  echo "build bin/$$fn/bootstrap"; \
	  $(LAMBDA_BUILD) -o bin/$$fn/bootstrap ./functions/$$fn; \
	done

## cli: the operator CLI for this machine into bin/replywindow
cli:
	$(GO) build -o bin/replywindow ./cmd/replywindow

# sam build (BuildMethod: makefile) calls these with ARTIFACTS_DIR set.
build-WebhookFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/webhook
build-ReplierFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/replier
build-SweeperFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/sweeper

## test: everything CI runs — lint, then unit and integration tests with -race against one moto
## server started and stopped here (the template checks are tests in ./functions).
test: lint
	.ci/with-moto.sh $(GO) test -count=1 -race $(PKGS)

## unit: the tests without -race or the lint steps (each test binary starts moto itself if needed)
unit:
	$(GO) test -count=1 $(PKGS)

## lint: gofmt, go vet, staticcheck, cfn-lint
lint: fmt-check vet staticcheck cfn-lint

fmt-check:
	@out=$$(gofmt -l cmd functions shared); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(STATICCHECK) $(PKGS)

cfn-lint:
	cfn-lint template.yaml

## bench: every benchmark, with allocations (moto for the ones that talk to AWS)
bench:
	.ci/with-moto.sh $(GO) test -count=1 -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

## fuzz: every fuzz target for FUZZTIME each (go test -fuzz takes one target per run)
fuzz:
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' shared cmd functions 2>/dev/null | xargs -r -n1 dirname | sort -u); do \
	  for target in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "fuzz ./$$dir $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) ./$$dir; \
	  done; \
	done

## soak: the long simulation (make soak SOAKTIME=2h)
soak:
	.ci/with-moto.sh $(GO) test -count=1 -tags soak -run Soak -timeout $(SOAKTIME) $(PKGS)

## events: re-sign events/ with the secret in events/env.json, so they never drift
events:
	$(GO) run ./cmd/replywindow events

## invoke-<fn>: the sample events through sam local invoke (needs Docker and the SAM CLI)
invoke-webhook:
	sam build
	sam local invoke WebhookFunction -e events/webhook-handshake.json --env-vars events/env.json
	sam local invoke WebhookFunction -e events/webhook-comment.json --env-vars events/env.json
	sam local invoke WebhookFunction -e events/webhook-live-comment.json --env-vars events/env.json
	sam local invoke WebhookFunction -e events/webhook-bad-signature.json --env-vars events/env.json
invoke-replier:
	sam build
	sam local invoke ReplierFunction -e events/replier-sqs.json --env-vars events/env.json
invoke-sweeper:
	sam build
	sam local invoke SweeperFunction -e events/sweeper-scheduled.json --env-vars events/env.json

## deploy: build and deploy with samconfig.toml's CONFIG_ENV (make deploy CONFIG_ENV=prod)
deploy:
	sam build --config-env $(CONFIG_ENV)
	sam deploy --config-env $(CONFIG_ENV)

## demo: the whole product on this machine, on embedded defaults
demo:
	$(GO) run ./cmd/replywindow demo

clean:
	rm -rf bin .aws-sam
