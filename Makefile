# replywindow — build, test and run. `make demo` runs the product locally; `make test` is what CI runs.
SHELL := /bin/bash
GO ?= go
PKGS := ./...

.PHONY: test unit
# test: unit and integration tests against one moto server started here and stopped after.
test:
	@.ci/with-moto.sh $(GO) test -count=1 -race $(PKGS)

unit:
	$(GO) test -count=1 $(PKGS)
