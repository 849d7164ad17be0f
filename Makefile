# amibump — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ARCH          ?= arm64
GOLANGCI_LINT := v2.15.0
CDK_VERSION   := 2.1148.1
TOOLS         := $(CURDIR)/.cache/bin
CDK           := $(CURDIR)/.cache/cdk/node_modules/.bin/cdk
CDK_ARGS      ?=
# The stack synth, diff, deploy and destroy act on: Amibump (one account and region), or
# AmibumpOrg (the organisation's StackSet; the app has it when orgTargets is set).
STACK         ?= Amibump
# Node.js runs the CDK CLI and, through jsii, the CDK app (synth, the infra tests): 22 or 24,
# the LTS lines the CDK supports. On a machine whose node is older, `make node` installs
# Node.js $(NODE_VERSION) from the npm registry (the "node" package) into .cache/node, and
# every target runs with it first on PATH.
NODE_VERSION  := 22.23.3
NODE_MIN      := 22
NODE_BIN      := $(CURDIR)/.cache/node/node_modules/.bin
export PATH   := $(NODE_BIN):$(PATH)
FN_GOARCH     := $(if $(filter x86_64 amd64,$(ARCH)),amd64,arm64)
FUZZTIME      ?= 30s
GO_BUILD      := CGO_ENABLED=0 GOOS=linux GOARCH=$(FN_GOARCH) go build -tags lambda.norpc -trimpath -buildvcs=false -ldflags="-s -w"

CFN_LINT      := PYENV_VERSION=3.11.7 cfn-lint

# The amibump CLI: VERSION is stamped into the binary (amibump --version). `make cli` writes
# ./amibump for this machine, and ./amibump-GOOS-GOARCH when GOOS or GOARCH name another.
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
CLI_LDFLAGS   := -s -w -X main.version=$(VERSION)
HOST_PLATFORM := $(shell go env GOHOSTOS)-$(shell go env GOHOSTARCH)
CLI_PLATFORM  := $(or $(GOOS),$(shell go env GOHOSTOS))-$(or $(GOARCH),$(shell go env GOHOSTARCH))
CLI_OUT       := $(if $(filter $(HOST_PLATFORM),$(CLI_PLATFORM)),amibump,amibump-$(CLI_PLATFORM))
# make release: one archive per platform, and their checksums, in DIST.
DIST          ?= dist
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
SHA256SUM     := $(shell command -v sha256sum >/dev/null 2>&1 && echo sha256sum || echo 'shasum -a 256')

.PHONY: help build cli release test fuzz demo sim bench lint cfn-lint tools node synth diff deploy destroy bootstrap publish-code

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build the function as ./bootstrap for Linux on arm64 (ARCH=x86_64 for Intel)
	$(GO_BUILD) -o bootstrap ./lambda

cli: ## build the amibump command-line tool as ./amibump (GOOS/GOARCH=… make cli: ./amibump-GOOS-GOARCH)
	CGO_ENABLED=0 go build -trimpath -ldflags="$(CLI_LDFLAGS)" -o $(CLI_OUT) ./lambda/cmd/amibump

release: ## the CLI for linux and darwin on amd64 and arm64: dist/amibump_VERSION_OS_ARCH.tar.gz and dist/SHA256SUMS (VERSION=vX.Y.Z)
	rm -rf $(DIST) && mkdir -p $(DIST)
	@set -e; for p in $(RELEASE_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; name=amibump_$(VERSION)_$${os}_$${arch}; \
		echo "release: $(DIST)/$$name.tar.gz"; \
		mkdir -p $(DIST)/$$name; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags="$(CLI_LDFLAGS)" -o $(DIST)/$$name/amibump ./lambda/cmd/amibump; \
		cp README.md $(DIST)/$$name/; \
		tar -C $(DIST) -czf $(DIST)/$$name.tar.gz $$name; \
		rm -rf $(DIST)/$$name; \
	done
	cd $(DIST) && $(SHA256SUM) *.tar.gz > SHA256SUMS

test: node ## run every test, infra and end-to-end included
	go test -timeout 30m ./...

fuzz: ## run every Go fuzz target for FUZZTIME each (default 30s); an input that fails is saved under the package's testdata/fuzz/
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' lambda | xargs -n1 dirname | sort -u); do \
		for target in $$(grep -h -o '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | cut -d' ' -f2); do \
			echo "fuzz: ./$$dir $$target for $(FUZZTIME)"; \
			go test ./$$dir -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME); \
		done; \
	done

demo: ## run amibump on this machine: the function under the Lambda emulator, against a local AWS endpoint
	go run ./lambda/demo

sim: ## keep a local AWS endpoint up, seeded as in the demo, and print the export lines that point amibump at it (Ctrl-C stops it)
	go run ./lambda/demo -serve

bench: ## run the benchmarks and print the figures (about 2 min; -json: go run ./lambda/benchmark -json)
	go run ./lambda/benchmark

lint: tools ## gofmt, go vet, golangci-lint, and cfn-lint on the templates (that step skipped, with a message, without cfn-lint)
	@out=$$(gofmt -l lambda infra 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	$(TOOLS)/golangci-lint run ./...
	@if $(CFN_LINT) --version >/dev/null 2>&1; then $(MAKE) --no-print-directory cfn-lint; else \
		echo "lint: SKIPPED cfn-lint on the CloudFormation templates: '$(CFN_LINT)' is not installed here."; \
		echo "      Every other check above ran. To lint the templates as CI does, install cfn-lint 1.51 for Python 3.11"; \
		echo "      (pyenv install 3.11.7 && PYENV_VERSION=3.11.7 pip install cfn-lint==1.51.0, or pip install cfn-lint==1.51.0)"; \
		echo "      and run make cfn-lint."; fi

cfn-lint: node ## synthesize for us-east-1 and cn-north-1 and lint both templates with cfn-lint (suppressions: infra/cfn-lint.yaml)
	infra/cfnlint.sh

synth: node $(CDK) ## synthesize the stack into cdk.out (builds the function; CDK_ARGS="-c key=value")
	$(CDK) synth $(CDK_ARGS)

diff: node $(CDK) ## show what deploy would change in the current account and region (STACK=AmibumpOrg: the organisation's)
	$(CDK) diff $(STACK) $(CDK_ARGS)

deploy: node $(CDK) ## deploy the stack to the current account and region (CDK_ARGS="-c key=value …"; STACK=AmibumpOrg: the organisation's)
	$(CDK) deploy $(STACK) $(CDK_ARGS)

destroy: node $(CDK) ## delete the stack from the current account and region (README: Uninstalling says what survives)
	$(CDK) destroy $(STACK) $(CDK_ARGS)

publish-code: ## the function's zip of AmibumpOrg (after make synth) into amibump-code-ACCOUNT-REGION of each of REGIONS=r1,r2 (README: An organisation)
	REGIONS="$(REGIONS)" infra/publish-code.sh

bootstrap: node $(CDK) ## once per account and region before the first deploy: the CDK's bootstrap stack (CDK_ARGS=aws://ACCOUNT/REGION to name them)
	$(CDK) bootstrap $(CDK_ARGS)

tools: node $(TOOLS)/golangci-lint $(CDK) ## install the pinned tools (golangci-lint, the CDK CLI, and Node.js 22 when this machine's node is older) into .cache/

node: ## use this machine's Node.js if it is 22 or newer (an LTS the CDK supports), else install Node.js 22 into .cache/node
	@if ! node -e 'process.exit(+process.versions.node.split(".")[0] >= $(NODE_MIN) ? 0 : 1)' 2>/dev/null; then \
		echo "node: $$(node --version 2>/dev/null || echo 'no node') is older than $(NODE_MIN); installing Node.js $(NODE_VERSION) into .cache/node"; \
		npm install --prefix .cache/node --no-audit --no-fund --loglevel=error node@$(NODE_VERSION); \
	fi

$(TOOLS)/golangci-lint:
	GOBIN=$(TOOLS) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT)

$(CDK): | node
	npm install --prefix .cache/cdk --no-audit --no-fund --loglevel=error aws-cdk@$(CDK_VERSION)
