# amibump — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ARCH          ?= arm64
GOLANGCI_LINT := v2.15.0
TOOLS         := $(CURDIR)/.cache/bin
GOARCH        := $(if $(filter x86_64 amd64,$(ARCH)),amd64,arm64)
GO_BUILD      := CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) go build -tags lambda.norpc -trimpath -ldflags="-s -w"

.PHONY: help build test lint tools

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build the function as ./bootstrap for linux/$(ARCH) (ARCH=x86_64 for Intel)
	$(GO_BUILD) -o bootstrap ./lambda

test: ## run every test, infra included
	go test ./...

lint: tools ## gofmt, go vet and golangci-lint
	@out=$$(gofmt -l lambda infra 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	$(TOOLS)/golangci-lint run ./...

tools: $(TOOLS)/golangci-lint ## install the pinned tools into .cache/

$(TOOLS)/golangci-lint:
	GOBIN=$(TOOLS) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT)
