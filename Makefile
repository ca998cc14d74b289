# xspos — the first two commands on a fresh machine are `make sim` and `make test`.
# Both install what they need on first use (npm ci; the XS engine builds from
# source inside @agoric/xsnap's install step).
SHELL := /bin/bash
STAMP := node_modules/.install-stamp
TSC := node_modules/.bin/tsc
JEST := NODE_OPTIONS=--experimental-vm-modules node_modules/.bin/jest

.PHONY: install test sim typecheck lint format jest xs native-check

$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP)

sim: install
	tools/xspos sim

test: install
	@echo "== typecheck"; $(MAKE) --no-print-directory typecheck
	@echo "== lint"; $(MAKE) --no-print-directory lint
	@echo "== jest (Node)"; $(JEST) --ci
	@echo "== XS"; node --import tsx --no-warnings=ExperimentalWarning tools/xs/main.ts

typecheck: install
	$(TSC) -p tsconfig.json
	$(TSC) -p tsconfig.node.json
	$(TSC) -p tsconfig.esp32.json

lint: install
	node_modules/.bin/eslint --max-warnings=0 .
	node_modules/.bin/prettier --check --log-level=warn .

format: install
	node_modules/.bin/prettier --write --log-level=warn .
	node_modules/.bin/eslint --fix .

jest: install
	$(JEST) --ci

xs: install
	node --import tsx --no-warnings=ExperimentalWarning tools/xs/main.ts
