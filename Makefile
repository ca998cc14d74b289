# xspos — the first two commands on a fresh machine are `make sim` and `make test`.
# Both install what they need on first use (npm ci; the XS engine builds from
# source inside @agoric/xsnap's install step).
SHELL := /bin/bash
STAMP := node_modules/.install-stamp
TSC := node_modules/.bin/tsc
# --forceExit: once every suite has reported, jest exits even if something a suite started still holds the event
# loop (a CI run once sat after "Ran all test suites." until CI's own limit); jest names it when it happens.
JEST_CI := env NODE_OPTIONS=--experimental-vm-modules node_modules/.bin/jest --ci --forceExit

.PHONY: install test sim typecheck lint format jest xs soak native-check manifest-check browser-deps wireshark-deps \
	sdk sdk-debs esp32-link device-test native-terminal native-smoke native-soak mutation mutation-changed docs-figures

$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP)

sim: install
	tools/xspos sim

# Every step of make test has a time limit (seconds): a step that hangs fails here, named, long before CI's own
# limit, and each step prints its duration (the run's figures in one place). The limits are several times what the
# steps take on a 2-core machine (README.md).
step = echo "== $(1)"; started=$$(date +%s); timeout --kill-after=30 $(2) $(3) || { status=$$?; \
	if [ $$status = 124 ] || [ $$status = 137 ]; then echo "make test: step '$(1)' passed its limit of $(2) s: stopped" >&2; fi; exit $$status; }; \
	echo "== $(1): $$(( $$(date +%s) - started )) s"

test: install
	@$(call step,typecheck,600,$(MAKE) --no-print-directory typecheck)
	@$(call step,manifest,300,$(MAKE) --no-print-directory manifest-check)
	@$(call step,native,300,$(MAKE) --no-print-directory native-check)
	@$(call step,esp32 link (Moddable SDK),1200,$(MAKE) --no-print-directory esp32-link)
	@$(call step,device-test (Moddable runtime x-cli-lin),600,$(MAKE) --no-print-directory device-test)
	@$(call step,native terminal (hosts/lin),900,$(MAKE) --no-print-directory native-terminal native-smoke native-soak)
	@$(call step,lint,600,$(MAKE) --no-print-directory lint)
	@$(call step,browser,900,$(MAKE) --no-print-directory browser-deps)
	@$(call step,wireshark,900,$(MAKE) --no-print-directory wireshark-deps)
	@$(call step,jest (Node),1500,$(JEST_CI))
	@$(call step,soak,900,$(MAKE) --no-print-directory soak)
	@$(call step,XS,600,node --import tsx --no-warnings=ExperimentalWarning tools/xs/main.ts)
	@$(call step,mutation,900,$(MAKE) --no-print-directory mutation-changed)

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
	$(JEST_CI)

# The deterministic figures in docs/ (XS slots and compute) from fresh measurements; tests/node/checks/docs-figures.test.ts
# fails when a committed figure is stale.
docs-figures: install
	node --import tsx --no-warnings=ExperimentalWarning tools/checks/docs-figures.ts --write

# Mutation testing (docs/testing.md). First the hand-written mutants of the reversal rules (tools/mutate/mutants.ts):
# each in a sandbox copy, killed by jest and, for core code, in XS too; about 2 minutes. Then StrykerJS room by room
# (tests/mutation/rooms.json), one process at a time, incremental against each room's committed baseline
# tests/mutation/<room>.incremental.json (commit the updated baselines); reports in artifacts/mutation/<room>/.
mutation: install
	tools/xspos mutate
	tools/xspos mutate --stryker

# What make test runs: the hand mutants, and Stryker only on the rooms whose code or suites differ from their
# committed baseline (a commit made after make mutation runs none; a room with no baseline yet is named, not run),
# within 5 minutes: a change too large for that fails here and asks for make mutation and its baselines (docs/testing.md).
mutation-changed: install
	tools/xspos mutate
	tools/xspos mutate --stryker --changed --budget-seconds 300

xs: install
	node --import tsx --no-warnings=ExperimentalWarning tools/xs/main.ts

# Every .c in the repo (outside node_modules and var), syntax-checked against the XS headers
# shipped in @agoric/xsnap, Debian's mbedtls and the ESP-IDF stubs in tests/native-stubs; hosts/esp32
# with ESP_PLATFORM defined, as ESP-IDF builds it (tls-transport.c's POSIX branch is the Linux terminal's). hosts/lin is
# left out: it needs the XS engine's internal headers and mc.xs.h, and the x-cli-lin builds (make
# device-test, the native terminal) compile it for real with the SDK.
XS_INCLUDES := node_modules/@agoric/xsnap/moddable/xs/includes
NATIVE_SOURCES = $(shell find . -name '*.c' -not -path './node_modules/*' -not -path './var/*' -not -path './.git/*' \
	-not -path './hosts/lin/*' | sort)

native-check: install
	@dpkg -s libmbedtls-dev >/dev/null 2>&1 || (apt-get update && apt-get install -y libmbedtls-dev)
	@test -f $(XS_INCLUDES)/xsmc.h || { echo "native-check: $(XS_INCLUDES)/xsmc.h is missing"; exit 1; }
	@for f in $(NATIVE_SOURCES); do \
		case "$$f" in ./hosts/esp32/*) platform=-DESP_PLATFORM;; *) platform=;; esac; \
		gcc -std=gnu11 -fsyntax-only -Wall -Wextra -Wno-unused-parameter -Werror $$platform -Itests/native-stubs -I$(XS_INCLUDES) "$$f" || exit 1; \
		echo "native-check: $$f"; \
	done

manifest-check: install
	node --import tsx --no-warnings=ExperimentalWarning tools/checks/manifest-check.ts

# The browser tests (tests/browser) drive Debian's chromium; a CJK font so the page's 中文 renders.
browser-deps:
	@command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	@fc-list :lang=zh 2>/dev/null | grep -q . || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y fonts-wqy-microhei)

# tests/node/wireshark runs the cup8583 dissector (tools/wireshark) in Debian's tshark. wireshark-common asks
# whether non-root users may capture; answered "no" beforehand so the install never waits for a terminal.
wireshark-deps:
	@command -v tshark >/dev/null || { echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections && \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y tshark; }

# ---------------------------------------------------------------------------------------------------------
# The Moddable SDK. $MODDABLE set by the user (an SDK installed as Moddable's docs say, tools built) wins;
# else the vendored subset ../shared/vendor/... is extracted into var/cache and its tools built once
# (a stamp written last: an interrupted build is thrown away and redone); else SDK steps say what to
# install in one line and the rest of `make test` runs. Generated makefiles always run with -j2: mcconfig's
# own --jobs is unbounded (dozens of tsc processes, ~5.5 GB).
SDK_VERSION := 8.2.3
SDK_ARCHIVE := ../shared/vendor/moddable-sdk-$(SDK_VERSION)-min.tar.xz
SDK_CACHE := var/cache/moddable-$(SDK_VERSION)
SDK_STAMP := $(SDK_CACHE)/.tools-built
SDK_DEBS := build-essential pkg-config libglib2.0-dev libmbedtls-dev
ifdef MODDABLE
SDK_FROM := MODDABLE=$(MODDABLE)
SDK_READY := $(MODDABLE)/build/bin/lin/release/mcconfig
else ifneq ($(wildcard $(SDK_ARCHIVE)),)
MODDABLE := $(CURDIR)/$(SDK_CACHE)/moddable
SDK_FROM := vendored $(SDK_ARCHIVE), built in $(SDK_CACHE)
SDK_READY := $(SDK_STAMP)
else
SDK_READY :=
endif
SDK_MISSING := skipped: no Moddable SDK; install it (https://github.com/Moddable-OpenSource/moddable, build its tools) and set MODDABLE, or provide $(SDK_ARCHIVE)
# What every SDK step runs with: the SDK tools and the project's tsc on PATH (the generated makefiles call
# xsc, xsid, xsl, mcrez and tsc by name).
SDK_ENV := MODDABLE=$(MODDABLE) PATH=$(MODDABLE)/build/bin/lin/release:$(CURDIR)/node_modules/.bin:$$PATH
SDK_MAKE := $(MAKE) --no-print-directory -j2 -s
# mcconfig output (-o) stays in the repo, so a user's SDK is never written to; NAME is fixed by manifest.json.
SDK_OUT := $(CURDIR)/var/build

sdk-debs:
	@missing=""; for p in $(SDK_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; fi

$(SDK_STAMP): $(SDK_ARCHIVE) | sdk-debs
	@echo "sdk: extracting $(SDK_ARCHIVE) and building its tools (about a minute, once)"
	@rm -rf $(SDK_CACHE) && mkdir -p $(SDK_CACHE)
	@tar xJf $(SDK_ARCHIVE) -C $(SDK_CACHE)
	@cd $(SDK_CACHE)/moddable/build/makefiles/lin && \
	export MODDABLE=$(MODDABLE) XS_DIR=$(MODDABLE)/xs BUILD_DIR=$(MODDABLE)/build && \
	for mk in $$XS_DIR/makefiles/lin/xsc.mk $$XS_DIR/makefiles/lin/xsid.mk $$XS_DIR/makefiles/lin/xsl.mk tools.mk; do \
		$(MAKE) --no-print-directory -j2 GOAL=release -f $$mk >>$(CURDIR)/$(SDK_CACHE)/tools-build.log 2>&1 || \
			{ tail -20 $(CURDIR)/$(SDK_CACHE)/tools-build.log; exit 1; }; \
	done
	@touch $@

$(MODDABLE)/build/bin/lin/release/mcconfig:
	@echo "sdk: $@ is missing: build the SDK tools of MODDABLE=$(MODDABLE) (its docs, or unset MODDABLE to use the vendored SDK)"; exit 1

# Prints where the SDK comes from; fails only when one is given and does not build.
sdk: $(SDK_READY)
	@if [ -z "$(SDK_READY)" ]; then echo "sdk: $(SDK_MISSING)"; else echo "sdk: $(SDK_FROM)"; fi

# The ESP32 image's JavaScript half, linked for real: mcconfig -p esp32 generates (no -m: that needs ESP-IDF),
# then its makefile runs tsc per file, xsc, xsid and xsl with the esp32 preloads and creation sizes up to
# mc.xs.c (../shared/vendor/README.md (c)). Any error fails. tools/checks/esp32-link.ts prints and records
# what the link produced (artifacts/esp32-link.json). tsc and xsc outputs of unchanged files are kept in
# var/build; xsl always runs again (mc.xs.c is removed first). About 60-80 s the first time, 5-15 s after.
ESP32_TMP := $(SDK_OUT)/tmp/esp32/release/xspos
esp32-link: install $(SDK_READY)
	@if [ -z "$(SDK_READY)" ]; then echo "esp32-link: $(SDK_MISSING)"; exit 0; fi; \
	rm -f $(ESP32_TMP)/mc.xs.c && mkdir -p $(SDK_OUT) && \
	$(SDK_ENV) mcconfig -o $(SDK_OUT) -p esp32 manifest.json && \
	$(SDK_ENV) $(SDK_MAKE) -f $(ESP32_TMP)/makefile IDF_PATH=/nonexistent IDF_VERSION=v6.0 SDKCONFIG_H= \
		MAKEFLAGS_JOBS=--jobs=2 $(ESP32_TMP)/mc.xs.c >$(SDK_OUT)/esp32-link.log 2>&1 || \
		{ grep -v '^# \|/nonexistent\|cannot optimize native' $(SDK_OUT)/esp32-link.log | tail -40; \
		  echo "esp32-link: FAILED (full log: var/build/esp32-link.log)"; exit 1; }; \
	node --import tsx --no-warnings=ExperimentalWarning tools/checks/esp32-link.ts $(SDK_OUT)/esp32-link.log $(ESP32_TMP)/mc.xs.c

# The core suites inside the Moddable runtime: tests/device bundled (tests/device/bundle.ts), built by
# mcconfig -p x-cli-lin into var/build/bin/lin/release/xspos-device-tests and run; it prints the failures
# and `N passed, N failed` and exits 0 only when none failed. About 35 s (60 s when var/build is new: the
# XS engine is compiled once into var/build/tmp/lin/release/lib).
DEVICE_TESTS_TMP := $(SDK_OUT)/tmp/lin/release/xspos-device-tests
device-test: install $(SDK_READY)
	@if [ -z "$(SDK_READY)" ]; then echo "device-test: $(SDK_MISSING)"; exit 0; fi; \
	node --import tsx --no-warnings=ExperimentalWarning tests/device/bundle.ts && \
	mkdir -p $(SDK_OUT) && (cd tests/device && $(SDK_ENV) mcconfig -o $(SDK_OUT) -p x-cli-lin manifest.json) && \
	$(SDK_ENV) $(SDK_MAKE) -f $(DEVICE_TESTS_TMP)/makefile >$(SDK_OUT)/device-test-build.log 2>&1 || \
		{ grep -v '^# ' $(SDK_OUT)/device-test-build.log | tail -40; \
		  echo "device-test: build FAILED (full log: var/build/device-test-build.log)"; exit 1; }; \
	$(SDK_OUT)/bin/lin/release/xspos-device-tests

# hosts/lin: the Linux terminal, one native executable built by mcconfig -p x-cli-lin from manifest.json
# (var/build/bin/lin/release/xspos): ESP32 creation sizes, Debian's mbedtls for TLS and DES, mc/config
# generated from manifest.json and partitions.csv (tools/lin/mc-config.ts: mcconfig writes none for x-cli
# builds). About 70 s from scratch, a few seconds when only a file changed.
LIN_TMP := $(SDK_OUT)/tmp/lin/release/xspos
LIN_LIBRARIES = -lm -lc $$(pkg-config --libs gio-2.0) -latomic -lpthread -ldl -lmbedtls -lmbedx509 -lmbedcrypto
native-terminal: install $(SDK_READY)
	@if [ -z "$(SDK_READY)" ]; then echo "native-terminal: $(SDK_MISSING)"; exit 0; fi; \
	node --import tsx --no-warnings=ExperimentalWarning tools/lin/mc-config.ts $(SDK_OUT)/lin/mc-config.js && \
	$(SDK_ENV) mcconfig -o $(SDK_OUT) -p x-cli-lin manifest.json && \
	$(SDK_ENV) $(SDK_MAKE) -f $(LIN_TMP)/makefile LIBRARIES="$(LIN_LIBRARIES)" >$(SDK_OUT)/native-terminal-build.log 2>&1 || \
		{ grep -v '^# \|cannot optimize native' $(SDK_OUT)/native-terminal-build.log | tail -40; \
		  echo "native-terminal: build FAILED (full log: var/build/native-terminal-build.log)"; exit 1; }; \
	grep '^### ' $(SDK_OUT)/native-terminal-build.log | sed 's/^/native-terminal: xsl: /'; \
	ls -l $(SDK_OUT)/bin/lin/release/xspos | awk '{print "native-terminal: var/build/bin/lin/release/xspos, " $$5 " bytes"}'

# The native terminal against the host simulator over TLS on loopback: sign-on, sale, timeout -> 0400,
# reconcile (tools/lin/smoke.ts). About 5 s. Skipped (one line) when the terminal is not built.
native-smoke: install
	@node --import tsx --no-warnings=ExperimentalWarning tools/lin/smoke.ts

# A short kill soak of the native terminal (tools/xspos soak --terminal native): 12 lives killed by SIGKILL
# or cut inside a flash operation, then the ledger oracle. About 10 s. Skipped when the terminal is not built.
native-soak: install
	@if [ ! -x var/build/bin/lin/release/xspos ]; then echo "native-soak: skipped: no native terminal (make native-terminal)"; exit 0; fi; \
	tools/xspos soak --terminal native --kills 12 --seed 7 --json
