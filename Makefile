# xspos — the first two commands on a fresh machine are `make sim` and `make test`.
# Both install what they need on first use (npm ci; the XS engine builds from
# source inside @agoric/xsnap's install step).
SHELL := /bin/bash
STAMP := node_modules/.install-stamp
TSC := node_modules/.bin/tsc
JEST := NODE_OPTIONS=--experimental-vm-modules node_modules/.bin/jest

.PHONY: install test sim typecheck lint format jest xs soak native-check manifest-check browser-deps

$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP)

sim: install
	tools/xspos sim

test: install
	@echo "== typecheck"; $(MAKE) --no-print-directory typecheck
	@echo "== manifest"; $(MAKE) --no-print-directory manifest-check
	@echo "== native"; $(MAKE) --no-print-directory native-check
	@echo "== lint"; $(MAKE) --no-print-directory lint
	@echo "== browser"; $(MAKE) --no-print-directory browser-deps
	@echo "== jest (Node)"; $(JEST) --ci
	@echo "== soak"; $(MAKE) --no-print-directory soak
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

# Seeded whole-system chaos, flash-journal torture and fuzzing (10^5 inputs a target), sized for CI;
# every violation replays from its seed, every fuzz finding from its input number.
FUZZ_TARGETS := codec tlv subfields journal host
soak: install
	tools/xspos chaos --seeds 2000 --json
	tools/xspos torture --seeds 100 --json
	@for t in $(FUZZ_TARGETS); do echo "fuzz $$t"; tools/xspos fuzz $$t --inputs 100000 --seed 1 --json || exit 1; done

jest: install
	$(JEST) --ci

xs: install
	node --import tsx --no-warnings=ExperimentalWarning tools/xs/main.ts

# Every .c in the repo (outside node_modules and var), syntax-checked against the XS headers
# shipped in @agoric/xsnap, Debian's mbedtls and the ESP-IDF stubs in tests/native-stubs.
XS_INCLUDES := node_modules/@agoric/xsnap/moddable/xs/includes
NATIVE_SOURCES = $(shell find . -name '*.c' -not -path './node_modules/*' -not -path './var/*' -not -path './.git/*' | sort)

native-check: install
	@dpkg -s libmbedtls-dev >/dev/null 2>&1 || (apt-get update && apt-get install -y libmbedtls-dev)
	@test -f $(XS_INCLUDES)/xsmc.h || { echo "native-check: $(XS_INCLUDES)/xsmc.h is missing"; exit 1; }
	@for f in $(NATIVE_SOURCES); do \
		gcc -std=gnu11 -fsyntax-only -Wall -Wextra -Wno-unused-parameter -Werror -Itests/native-stubs -I$(XS_INCLUDES) "$$f" || exit 1; \
		echo "native-check: $$f"; \
	done

manifest-check: install
	node --import tsx --no-warnings=ExperimentalWarning tools/checks/manifest-check.ts

# The browser tests (tests/browser) drive Debian's chromium; a CJK font so the page's 中文 renders.
browser-deps:
	@command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	@fc-list :lang=zh 2>/dev/null | grep -q . || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y fonts-wqy-microhei)
