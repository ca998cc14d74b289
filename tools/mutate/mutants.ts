/**
 * The rules where a wrong line costs money, each broken one way at a time (a
 * mutant): `tools/xspos mutate` applies one mutant to a copy of the repo, runs
 * the suites named for it, and the mutant must be killed — by jest, and also in
 * XS when the broken code is core (modules/) and a core suite names it.
 *
 * An edit names text that must occur exactly once in its file: when the code
 * moves on, the mutant fails loudly ("not found") instead of silently testing
 * nothing. Issue #20 names the rules; docs/testing.md records a run.
 */

export interface MutantEdit {
  /** Repo-relative path of the file to edit. */
  readonly file: string;
  /** Text that must occur exactly once in the file. */
  readonly find: string;
  readonly replace: string;
}

export interface Mutant {
  /** Short kebab-case name, for --only and reports. */
  readonly id: string;
  /** The rule the mutant breaks, in one line. */
  readonly rule: string;
  readonly edits: readonly MutantEdit[];
  /** Test files (repo-relative) that must kill it; the ones under tests/core also run in XS. */
  readonly suites: readonly string[];
}

const ENGINE = "modules/txn/engine.ts";
const LINK = "modules/link/host-link.ts";
const FORMAT = "modules/journal/format.ts";
const JOURNAL = "modules/journal/journal.ts";
const FLASH_JOURNAL = "modules/txn/flash-journal.ts";
const MESSAGES = "modules/txn/messages.ts";
const LOG = "modules/platform/log.ts";
const KEYS = "modules/crypto/keys.ts";

const ENGINE_TEST = "tests/core/txn/engine.test.ts";
const ANSWERS_TEST = "tests/core/txn/engine-answers.test.ts";
const JOURNAL_CODES_TEST = "tests/core/txn/flash-journal-codes.test.ts";
const EXCHANGE_EVENTS_TEST = "tests/core/txn/engine-exchange-events.test.ts";
const WALL_CLOCK_TEST = "tests/core/txn/engine-wall-clock.test.ts";
const LINK_TEST = "tests/core/link/host-link.test.ts";
const APPROVAL_CUTS_TEST = "tests/core/journal/approval-cuts.test.ts";
const ARM_RULES_TEST = "tests/core/journal/arm-rules.test.ts";
const RECOVERY_TEST = "tests/core/journal/recovery.test.ts";
const SALE_CUTS_TEST = "tests/core/txn/approval-power-cuts.test.ts";
const MESSAGES_TEST = "tests/core/iso8583/messages.test.ts";
const LOG_TEST = "tests/core/platform/log.test.ts";
const CRYPTO_ERRORS_TEST = "tests/core/crypto/input-errors.test.ts";
const RUNTIME = "tests/xs/runtime.ts";
const RUNTIME_PARITY_TEST = "tests/node/xs/runtime-parity.test.ts";

export const MUTANTS: readonly Mutant[] = Object.freeze([
  // ---- the MAC check
  {
    id: "mac-missing-f64-accepted",
    rule: "an approval (or a reversal's final 0410) without F64 is never accepted",
    edits: [
      {
        file: ENGINE,
        find: 'if (message.fields[64] === undefined) return message.mti === "0810" || !macProtects(message);',
        replace: "if (message.fields[64] === undefined) return true;",
      },
    ],
    suites: [ENGINE_TEST],
  },
  {
    id: "mac-0410-final-without-f64-accepted",
    rule: "a reversal's final 0410 (12/25) without F64 does not end the reversal",
    edits: [
      {
        file: ENGINE,
        find: 'if (message.fields[64] === undefined) return message.mti === "0810" || !macProtects(message);',
        replace: 'if (message.fields[64] === undefined) return message.mti === "0810" || message.fields[39] !== "00";',
      },
    ],
    suites: [ENGINE_TEST],
  },
  {
    id: "mac-mismatch-accepted",
    rule: "an answer whose F64 does not match is not trusted",
    edits: [{ file: ENGINE, find: "return macEqual(cupEcbMac(this.#mac,", replace: "return true || macEqual(cupEcbMac(this.#mac," }],
    suites: [ENGINE_TEST],
  },
  {
    id: "bad-mac-approval-not-reversed",
    rule: "an approval that fails its MAC is reversed with A0",
    edits: [{ file: ENGINE, find: 'if (f39 === "00" && !answer.macValid) {', replace: 'if (f39 === "00" && !answer.macValid && false) {' }],
    suites: [ENGINE_TEST],
  },
  {
    id: "mac-protects-final-codes-any-mti",
    rule: "only an approval and a reversal's final 0410 must pass the MAC: a 0210 12 or 25 with a bad MAC is a plain decline",
    edits: [
      {
        file: ENGINE,
        find: 'return f39 === "00" || (message.mti === "0410" && REVERSAL_FINAL_CODES.includes(f39));',
        replace: 'return f39 === "00" || message.mti === "0410" || REVERSAL_FINAL_CODES.includes(f39);',
      },
    ],
    suites: [ANSWERS_TEST],
  },
  {
    id: "mac-protects-final-codes-not-0410",
    rule: "a reversal's final 0410 12 or 25 with a bad MAC does not end the reversal",
    edits: [
      {
        file: ENGINE,
        find: 'return f39 === "00" || (message.mti === "0410" && REVERSAL_FINAL_CODES.includes(f39));',
        replace: 'return f39 === "00";',
      },
    ],
    suites: [ANSWERS_TEST, ENGINE_TEST],
  },
  // ---- the echo check (an approval echoes the request's F3, F4, F42)
  {
    id: "echo-f3-unchecked",
    rule: "an approval whose F3 is not the request's is reversed with 06",
    edits: [{ file: ENGINE, find: "      fields[3] === request.message.fields[3] &&\n", replace: "" }],
    suites: [ANSWERS_TEST],
  },
  {
    id: "echo-f4-unchecked",
    rule: "an approval whose F4 is not the request's is reversed with 06",
    edits: [
      {
        file: ENGINE,
        find: "      (request.message.fields[4] === undefined || fields[4] === request.message.fields[4]) &&\n",
        replace: "",
      },
    ],
    suites: [ANSWERS_TEST],
  },
  {
    id: "echo-f42-unchecked",
    rule: "an approval whose F42 is not the request's is reversed with 06",
    edits: [
      {
        file: ENGINE,
        find: "      fields[42] === request.message.fields[42] &&",
        replace: "      true &&",
      },
    ],
    suites: [ANSWERS_TEST, "tests/node/scenario/scenarios.test.ts"],
  },
  {
    id: "network-check-0830-unchecked",
    rule: "a signed-on terminal believes an 0830 only with a good MAC; only before sign-on is it taken unchecked",
    edits: [
      {
        file: ENGINE,
        find: '    if (this.#mac === undefined && message.mti === "0830") return true;',
        replace: '    if (this.#mac === undefined || message.mti === "0830") return true;',
      },
    ],
    suites: [ANSWERS_TEST],
  },
  {
    id: "odd-references-believed",
    rule: "an approval whose F38/F37 the journal cannot keep is a bad answer reversed with 06, not a crash in the approval write",
    edits: [
      {
        file: ENGINE,
        find: "      messages.approvalReferencesValid(fields[38], fields[37]);",
        replace: "      true;",
      },
    ],
    suites: [ANSWERS_TEST, "tests/node/scenario/scenarios.test.ts"],
  },
  {
    id: "echo-balance-reversed",
    rule: "a balance answered 00 without the request's echoes has no record to reverse: failed, nothing reversed",
    edits: [
      {
        file: ENGINE,
        find: 'if (record !== undefined && f39 === "00") return this.#trigger(request, "failedAfterApproval"',
        replace: 'if (f39 === "00") return this.#trigger(request, "failedAfterApproval"',
      },
    ],
    suites: [ANSWERS_TEST],
  },
  // ---- what the merchant is shown of one exchange
  {
    id: "exchange-no-connecting",
    rule: "the engine says it is connecting before a request (the processing screen without a countdown)",
    edits: [
      {
        file: ENGINE,
        find: '    if (request.mti !== "0400") this.#emit({ ev: "exchange", op, stan, phase: "connecting" });\n',
        replace: "",
      },
    ],
    suites: [EXCHANGE_EVENTS_TEST],
  },
  {
    id: "exchange-connecting-on-0400",
    rule: "a reversal's 0400 is no processing exchange: the reversing screen stays",
    edits: [
      {
        file: ENGINE,
        find: 'if (request.mti !== "0400") this.#emit({ ev: "exchange", op, stan, phase: "connecting" });',
        replace: 'this.#emit({ ev: "exchange", op, stan, phase: "connecting" });',
      },
    ],
    suites: [EXCHANGE_EVENTS_TEST],
  },
  {
    id: "exchange-no-waiting",
    rule: "once the request is written the engine says it waits, with the response timeout (the countdown)",
    edits: [
      {
        file: ENGINE,
        find: 'hooks?.onWaiting ?? (() => this.#emit({ ev: "exchange", op, stan, phase: "waiting", timeoutMs: this.#responseTimeoutMs }));',
        replace: "hooks?.onWaiting ?? (() => undefined);",
      },
    ],
    suites: [EXCHANGE_EVENTS_TEST],
  },
  {
    id: "send-f39-always",
    rule: "the send event carries f39 only for a message that has one (a 0400's reason)",
    edits: [{ file: ENGINE, find: "            request.fields[39] === undefined\n", replace: "            false\n" }],
    suites: [EXCHANGE_EVENTS_TEST],
  },
  // ---- the deadline rule
  {
    id: "deadline-late-only-after",
    rule: "an answer arriving at the deadline is late (>=, not >), whichever callback runs first",
    edits: [{ file: LINK, find: "if (nowMs >= pending.deadlineMs) {", replace: "if (nowMs > pending.deadlineMs) {" }],
    suites: [LINK_TEST],
  },
  {
    id: "deadline-from-exchange-start",
    rule: "the response deadline counts from the request's last byte written, not from the exchange's start",
    edits: [
      {
        file: LINK,
        find: "const pending: Pending = { request, done, written: false, deadlineMs: 0, timer: undefined };",
        replace:
          "const pending: Pending = { request, done, written: false, deadlineMs: this.#options.clock.nowMs() + this.#responseTimeoutMs, timer: undefined };",
      },
      {
        file: LINK,
        find: "pending.deadlineMs = nowMs + responseTimeoutMs;\n    pending.timer = this.#options.clock.schedule(responseTimeoutMs, () => {",
        replace: "pending.timer = this.#options.clock.schedule(Math.max(0, pending.deadlineMs - nowMs), () => {",
      },
    ],
    suites: [LINK_TEST, "tests/node/scenario/scenarios.test.ts"],
  },
  // ---- arm before write
  {
    id: "arm-after-write",
    rule: "the reversal record is durable before the request's first byte is written",
    edits: [
      {
        file: ENGINE,
        find: `        beforeWrite: () => {
          hooks?.beforeWrite?.();
          if (armed === undefined) return;
          this.#options.journal.arm(armed.record, armed.card);
          this.#track(stan, "armed");
          this.#emit({ ev: "journal", stan, state: "armed" });
        },
        onWritten: () => {`,
        replace: `        beforeWrite: () => {
          hooks?.beforeWrite?.();
        },
        onWritten: () => {
          if (armed !== undefined) {
            this.#options.journal.arm(armed.record, armed.card);
            this.#track(stan, "armed");
            this.#emit({ ev: "journal", stan, state: "armed" });
          }`,
      },
    ],
    suites: [SALE_CUTS_TEST, ENGINE_TEST],
  },
  {
    id: "link-before-write-after-write",
    rule: "the link runs beforeWrite before the first byte leaves, never after",
    edits: [
      {
        file: LINK,
        find: "    pending.request.beforeWrite?.();\n    const message = pending.request.message;",
        replace: "    const message = pending.request.message;",
      },
      {
        file: LINK,
        find: "    const nowMs = this.#options.clock.nowMs();\n    pending.written = true;",
        replace: "    pending.request.beforeWrite?.();\n    const nowMs = this.#options.clock.nowMs();\n    pending.written = true;",
      },
    ],
    suites: [LINK_TEST, SALE_CUTS_TEST],
  },
  // ---- the approval write
  {
    id: "approval-split",
    rule: "the approval closes the armed record and logs the sale in one flash step",
    edits: [
      {
        file: FLASH_JOURNAL,
        find: "    this.#open().approve(seq, authCode, rrn);\n",
        replace:
          "    this.#open().complete(seq);\n    const logged = this.#open().arm(this.#transactionData(armed, record), record.pan);\n    this.#open().approve(logged, authCode, rrn);\n",
      },
    ],
    suites: [SALE_CUTS_TEST, ENGINE_TEST],
  },
  {
    id: "torn-approval-accepted",
    rule: "a torn APPROVAL group (its check fails) is never read as an approval",
    edits: [
      {
        file: FORMAT,
        find: '  if (group[9] !== check >>> 16 || group[10] !== ((check >>> 8) & 0xff) || group[11] !== (check & 0xff)) return { state: "unreadable" };\n',
        replace: "",
      },
    ],
    suites: [APPROVAL_CUTS_TEST],
  },
  {
    id: "torn-approval-one-check-byte",
    rule: "all three check bytes of the APPROVAL group are compared",
    edits: [
      {
        file: FORMAT,
        find: "if (group[9] !== check >>> 16 || group[10] !== ((check >>> 8) & 0xff) || group[11] !== (check & 0xff))",
        replace: "if (group[11] !== (check & 0xff))",
      },
    ],
    suites: [APPROVAL_CUTS_TEST],
  },
  {
    id: "approval-auth-code-dropped",
    rule: "the journal keeps the approval's F38 as answered (the slip prints it)",
    edits: [{ file: ENGINE, find: 'authCode: fields[38] ?? "",', replace: 'authCode: "",' }],
    suites: [ANSWERS_TEST],
  },
  {
    id: "approval-without-f38-stored-empty",
    rule: "an approval without F38 is approved and kept (its auth code stored as six spaces, read back empty)",
    edits: [
      {
        file: FLASH_JOURNAL,
        find: 'const authCode = record.authCode === "" ? NO_AUTH_CODE : record.authCode;',
        replace: "const authCode = record.authCode;",
      },
    ],
    suites: [JOURNAL_CODES_TEST, ANSWERS_TEST],
  },
  {
    id: "approval-without-f37-stored-empty",
    rule: "an approval without F37 is approved and kept (its RRN stored as twelve zeros, read back empty)",
    edits: [{ file: FLASH_JOURNAL, find: 'const rrn = record.rrn === "" ? NO_RRN : record.rrn;', replace: "const rrn = record.rrn;" }],
    suites: [JOURNAL_CODES_TEST, ANSWERS_TEST],
  },
  {
    id: "approval-without-f38-read-as-spaces",
    rule: "an approval stored without F38 reads back with an empty auth code, not six spaces",
    edits: [{ file: FLASH_JOURNAL, find: 'authCode: authCode === NO_AUTH_CODE ? "" : authCode,', replace: "authCode," }],
    suites: [JOURNAL_CODES_TEST, ANSWERS_TEST],
  },
  {
    id: "approval-without-f37-read-as-zeros",
    rule: "an approval stored without F37 reads back with an empty RRN, not twelve zeros",
    edits: [{ file: FLASH_JOURNAL, find: 'rrn: rrn === NO_RRN ? "" : rrn,', replace: "rrn," }],
    suites: [JOURNAL_CODES_TEST, ANSWERS_TEST],
  },
  // ---- the chip completion
  {
    id: "chip-refund-second-generate-ac",
    rule: "a chip refund ends with its first GENERATE AC: only a sale runs the second",
    edits: [
      {
        file: ENGINE,
        find: 'if (op === "sale" && card?.completeChip !== undefined && record !== undefined) {',
        replace: "if (card?.completeChip !== undefined && record !== undefined) {",
      },
    ],
    suites: [ANSWERS_TEST],
  },
  // ---- the 0400 builder
  {
    id: "reversal-without-reason",
    rule: "the 0400 carries the reason in F39",
    edits: [
      {
        file: MESSAGES,
        find: "{ ...record.fields, 39: reason, 64: MAC_PLACEHOLDER }",
        replace: "{ ...record.fields, 64: MAC_PLACEHOLDER }",
      },
    ],
    suites: [MESSAGES_TEST, ENGINE_TEST],
  },
  {
    id: "reversal-without-amount",
    rule: "the 0400 repeats the original's amount (F4)",
    edits: [
      {
        file: MESSAGES,
        find: "const REVERSAL_FIELDS = Object.freeze([2, 3, 4, 11,",
        replace: "const REVERSAL_FIELDS = Object.freeze([2, 3, 11,",
      },
    ],
    suites: [MESSAGES_TEST, ENGINE_TEST],
  },
  {
    id: "reversal-swiped-with-pan",
    rule: "a swiped card's 0400 goes without F2",
    edits: [{ file: MESSAGES, find: "  if (request.fields[35] !== undefined) delete out[2];\n", replace: "" }],
    suites: [MESSAGES_TEST, ENGINE_TEST],
  },
  {
    id: "reversal-full-f55",
    rule: "the 0400's F55 keeps only the reversal tag set",
    edits: [{ file: MESSAGES, find: "  if (out[55] !== undefined) out[55] = reversalF55(out[55]);\n", replace: "" }],
    suites: [MESSAGES_TEST, ENGINE_TEST],
  },
  {
    id: "reversal-under-old-identity",
    rule: "a record armed after an identity change reads back (and is reversed) under the new F41/F42",
    edits: [
      {
        file: JOURNAL,
        find: "    if (newest >= 0) this.#identity = this.#sectors[newest].header!.identity;\n",
        replace:
          "    if (newest >= 0 && this.#markLive().some((flag) => flag !== 0)) this.#identity = this.#sectors[newest].header!.identity;\n",
      },
    ],
    suites: [ARM_RULES_TEST],
  },
  {
    id: "torn-append-seq-reused",
    rule: "the seq of an append a cut tore (or recovery voided) is never handed out again: its sealed PAN may be on flash under that seq's nonce",
    edits: [
      {
        file: JOURNAL,
        find: 'else if ((cls === "void" || hasRecordMagic(bytes)) && damagedSeqs.length < this.#rows)',
        replace: "else if (hasRecordMagic(bytes) && !(s === newest && slot === lastNonBlank) && damagedSeqs.length < this.#rows)",
      },
    ],
    suites: [RECOVERY_TEST],
  },
  {
    id: "lost-clock-transacts",
    rule: "a calendar clock lost at a power loss (before 2026) refuses card operations until a sign-on sets it",
    edits: [
      {
        file: ENGINE,
        find: "if (this.#state.signedOn && this.#mac !== undefined && this.#calendarKnown()) return true;",
        replace: "if (this.#state.signedOn && this.#mac !== undefined) return true;",
      },
    ],
    suites: [WALL_CLOCK_TEST],
  },
  // ---- the XS test runtime must not report PASS with nothing checked
  {
    id: "xs-runtime-zero-tests-pass",
    rule: "a suite with no tests fails in XS",
    edits: [{ file: RUNTIME, find: "if (testCount === 0) outcomes.push(", replace: "if (testCount < 0) outcomes.push(" }],
    suites: [RUNTIME_PARITY_TEST],
  },
  {
    id: "xs-runtime-empty-each-pass",
    rule: "an empty .each table fails the suite in XS",
    edits: [{ file: RUNTIME, find: "if (!Array.isArray(table) || table.length === 0) {", replace: "if (!Array.isArray(table)) {" }],
    suites: [RUNTIME_PARITY_TEST],
  },
  {
    id: "xs-runtime-tothrow-any-value",
    rule: "toThrow on a value that is not a function fails in XS",
    edits: [{ file: RUNTIME, find: 'if (typeof actual !== "function")', replace: 'if (typeof actual !== "function" && false)' }],
    suites: [RUNTIME_PARITY_TEST],
  },
  {
    id: "xs-runtime-cycles-equal",
    rule: "two cycles compare by content in XS",
    edits: [{ file: RUNTIME, find: "if (aStack[i] === a) return bStack[i] === b;", replace: "if (aStack[i] === a) return true;" }],
    suites: [RUNTIME_PARITY_TEST],
  },
  // ---- typed errors say what was wrong
  {
    id: "crypto-input-what-unnamed",
    rule: "a CryptoInputError names the input that was wrong in `what` (an F62 of the wrong length: f62)",
    edits: [
      {
        file: KEYS,
        find: 'throw new CryptoInputError("f62", `F62 must be 24, 40 or 60 bytes',
        replace: 'throw new CryptoInputError("", `F62 must be 24, 40 or 60 bytes',
      },
    ],
    suites: [CRYPTO_ERRORS_TEST],
  },
  // ---- PAN masking
  {
    id: "pan-mask-short-shown",
    rule: "a PAN shorter than 13 digits is masked whole",
    edits: [{ file: LOG, find: "if (pan.length < 13) return", replace: "if (pan.length < 10) return" }],
    suites: [LOG_TEST],
  },
  {
    id: "pan-mask-bin-8",
    rule: "at most the first 6 digits show",
    edits: [
      {
        file: LOG,
        find: 'return pan.slice(0, 6) + "*".repeat(pan.length - 10) + pan.slice(-4);',
        replace: 'return pan.slice(0, 8) + "*".repeat(pan.length - 12) + pan.slice(-4);',
      },
    ],
    suites: [LOG_TEST],
  },
]);
