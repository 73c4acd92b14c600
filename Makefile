# replywindow — build, test and run. `make demo` runs the product locally; `make test` is what CI runs.
SHELL := /bin/bash
GO ?= go
PKGS := ./...
FUNCTIONS := webhook replier sweeper links
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Lambda's provided.al2023 on Graviton: a static arm64 binary named bootstrap. lambda.norpc drops
# the legacy Go RPC runtime the provided runtimes never use; -s -w strips it.
LAMBDA_BUILD := CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -tags lambda.norpc -ldflags "-s -w"
FUZZTIME ?= 10s
BENCHTIME ?= 1s
SOAKTIME ?= 30m
SCALETIME ?= 3h
# make scale's heap holds a million records: collecting it only near SCALEMEM saves most of the
# time the collector would take (a third of the run's CPU at the default GOGC).
SCALEMEM ?= 8GiB
COMMENTS_PER_MONTH ?= 1000000
CONFIG_ENV ?= default
# make local-aws: where moto listens. Docker on Linux reaches the host at its bridge address, so
# sam local invoke needs LOCAL_AWS_HOST=0.0.0.0 there (README, "Try it with sam local invoke").
LOCAL_AWS_HOST ?= 127.0.0.1
LOCAL_AWS_PORT ?= 5000
LOCAL_AWS_REGION ?= us-east-1
# Python tools (moto's server, cfn-lint): the machine's, or .venv's once .ci/pytools.sh made it.
PYTOOLS = bin=$$(.ci/pytools.sh) || exit 1; export PATH="$$bin$${bin:+:}$$PATH" PYTHON=python3

.PHONY: build build-WebhookFunction build-ReplierFunction build-SweeperFunction build-LinksFunction \
	test unit lint fmt-check vet staticcheck cfn-lint tracked-files bench fuzz soak scale cost \
	events invoke-webhook invoke-replier invoke-sweeper invoke-links local-aws deploy demo cli clean

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
build-LinksFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/links

## test: everything CI runs — lint, then unit and integration tests with -race against one moto
## server started and stopped here (the template checks are tests in ./functions). Missing Python
## tools are installed into .venv first; without a C compiler the tests run without -race. A
## package may take 30 minutes, not go test's 10: the chaos runs under -race on a busy shared
## machine need more.
test: lint
	@$(PYTOOLS); race=-race; \
	if [ "$$($(GO) env CGO_ENABLED)" != 1 ]; then \
	  echo "make test: cgo is off (no C compiler $$($(GO) env CC), or CGO_ENABLED=0) and the race detector needs it: running the tests without -race (install gcc to have it)"; race=; \
	fi; \
	echo ".ci/with-moto.sh $(GO) test -count=1 $$race -timeout 30m $(PKGS)"; \
	.ci/with-moto.sh $(GO) test -count=1 $$race -timeout 30m $(PKGS)

## unit: the tests without -race or the lint steps (each test binary starts moto itself if needed)
unit:
	$(GO) test -count=1 $(PKGS)

## lint: gofmt, go vet, staticcheck, cfn-lint
lint: fmt-check vet staticcheck cfn-lint tracked-files

# No build output in git: no compiled binary, whatever its name or place, and no file over 1 MB.
tracked-files:
	.ci/tracked-files.sh

fmt-check:
	@out=$$(gofmt -l cmd functions shared); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(STATICCHECK) $(PKGS)

cfn-lint:
	@$(PYTOOLS); echo "cfn-lint template.yaml"; cfn-lint template.yaml

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

## soak: every chaos seed (make test runs the first 8 of 20), then the long simulation
## (make soak SOAKTIME=2h); -v so that its summary is printed
soak:
	set -o pipefail; .ci/with-moto.sh $(GO) test -count=1 -race -run '^TestChaos' -timeout $(SOAKTIME) ./shared/chaos -seeds=20 \
	  | grep -v -e "^=== RUN"
	set -o pipefail; .ci/with-moto.sh $(GO) test -count=1 -v -tags soak -run Soak -timeout $(SOAKTIME) $(PKGS) \
	  | grep -v -e "^=== RUN" -e "no test files" -e "no tests to run"

## scale: the scale simulation at full size (1,000 accounts, 1,000,000 comments in 24 simulated
## hours; make test runs it at 50 accounts) and its scale: line
scale:
	set -o pipefail; GOGC=off GOMEMLIMIT=$(SCALEMEM) $(GO) test -count=1 -v -tags scale -run '^TestScaleFull$$' -timeout $(SCALETIME) ./shared/simulation \
	  | grep --line-buffered -v -e "^=== RUN"

## cost: what 100,000 comments and a month of COMMENTS_PER_MONTH cost, counted by the scale
## simulation at 50 accounts and priced at us-east-1 list prices (shared/cost)
cost:
	$(GO) run ./cmd/replywindow cost -comments-per-month $(COMMENTS_PER_MONTH)

## events: re-sign events/ with the secret in events/env.json, so they never drift, and date the
## SQS and scheduled samples now, so sam local invoke does not expire their jobs (do not commit those)
events:
	$(GO) run ./cmd/replywindow events --now

## local-aws: moto on LOCAL_AWS_HOST:LOCAL_AWS_PORT with the table and queues events/env.json
## names (from dynamo.TableInput and sqs.Settings), for sam local invoke; Ctrl-C stops it
local-aws:
	@$(PYTOOLS); MOTO_HOST=$(LOCAL_AWS_HOST) MOTO_PORT=$(LOCAL_AWS_PORT) AWS_REGION=$(LOCAL_AWS_REGION) .ci/with-moto.sh \
	  sh -c '$(GO) run ./cmd/replywindow local-aws && echo "moto serves on $(LOCAL_AWS_HOST):$(LOCAL_AWS_PORT); Ctrl-C stops it" && while :; do sleep 3600; done'

## invoke-<fn>: the sample events through sam local invoke (needs Docker, the SAM CLI and, for
## the functions' AWS calls, make local-aws in another terminal)
SAM_INVOKE = sam local invoke --region $(LOCAL_AWS_REGION) --add-host host.docker.internal:host-gateway
invoke-webhook:
	sam build
	$(SAM_INVOKE) WebhookFunction -e events/webhook-handshake.json --env-vars events/env.json
	$(SAM_INVOKE) WebhookFunction -e events/webhook-comment.json --env-vars events/env.json
	$(SAM_INVOKE) WebhookFunction -e events/webhook-live-comment.json --env-vars events/env.json
	$(SAM_INVOKE) WebhookFunction -e events/webhook-postback.json --env-vars events/env.json
	$(SAM_INVOKE) WebhookFunction -e events/webhook-bad-signature.json --env-vars events/env.json
invoke-replier:
	sam build
	$(SAM_INVOKE) ReplierFunction -e events/replier-sqs.json --env-vars events/env.json
invoke-sweeper:
	sam build
	$(SAM_INVOKE) SweeperFunction -e events/sweeper-scheduled.json --env-vars events/env.json
invoke-links:
	sam build
	$(SAM_INVOKE) LinksFunction -e events/links-click.json --env-vars events/env.json
	$(SAM_INVOKE) LinksFunction -e events/links-preview.json --env-vars events/env.json
	$(SAM_INVOKE) LinksFunction -e events/links-forged.json --env-vars events/env.json

## deploy: build and deploy with samconfig.toml's CONFIG_ENV (make deploy CONFIG_ENV=prod)
deploy:
	.ci/samconfig-check.sh $(CONFIG_ENV)
	sam build --config-env $(CONFIG_ENV)
	sam deploy --config-env $(CONFIG_ENV)

## demo: the whole product on this machine, on embedded defaults
demo:
	$(GO) run ./cmd/replywindow demo

clean:
	rm -rf bin .aws-sam .venv
