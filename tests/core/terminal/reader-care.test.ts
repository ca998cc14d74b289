import {
  CLEAN_AFTER_FAILURES,
  READ_WINDOW,
  ReaderCare,
  type ReaderCareState,
  type ReaderCareStore,
} from "../../../modules/terminal/reader-care";
import type { Terminal } from "../../../modules/terminal/terminal";
import { fill } from "../../../modules/ui/texts";
import { render } from "../../../modules/ui/terminal-ui";
import { terminalOnNetwork } from "./network-terminal";

describe("ReaderCare (清洁和维护)", () => {
  test("counts reads and failures by reason per reader", () => {
    const care = new ReaderCare();
    care.record("magstripe");
    care.record("magstripe", "lrc");
    care.record("magstripe", "lrc");
    care.record("magstripe", "parity");
    care.record("contactless", "timeout");
    expect(care.state.magstripe).toMatchObject({ reads: 4, failures: 3, reasons: { lrc: 2, parity: 1 }, windowReads: 4 });
    expect(care.state.contactless).toMatchObject({ reads: 1, failures: 1, reasons: { timeout: 1 } });
    expect(care.state.contact).toMatchObject({ reads: 0, failures: 0 });
  });

  test("asks for cleaning once when the recent window crosses the threshold, not for a few bad swipes", () => {
    const due: string[] = [];
    const care = new ReaderCare({ onCleaningDue: (reader) => due.push(reader) });
    for (let i = 0; i < CLEAN_AFTER_FAILURES - 1; i++) care.record("magstripe", "lrc");
    for (let i = 0; i < 5; i++) care.record("magstripe");
    expect(due).toEqual([]);
    expect(care.dueForCleaning()).toEqual([]);
    care.record("magstripe", "parity");
    expect(due).toEqual(["magstripe"]);
    care.record("magstripe", "lrc");
    expect(due).toEqual(["magstripe"]);
    expect(care.dueForCleaning()).toEqual(["magstripe"]);
    care.cleaned("magstripe");
    expect(care.dueForCleaning()).toEqual([]);
    expect(care.state.magstripe.failures).toBe(CLEAN_AFTER_FAILURES + 1);
  });

  test("the window forgets reads older than its size", () => {
    const care = new ReaderCare();
    for (let i = 0; i < CLEAN_AFTER_FAILURES; i++) care.record("contact", "reset");
    for (let i = 0; i < 4; i++) care.record("contact");
    expect(care.dueForCleaning()).toEqual(["contact"]);
    for (let i = 0; i < READ_WINDOW; i++) care.record("contact");
    expect(care.dueForCleaning()).toEqual([]);
    expect(care.state.contact.windowReads).toBe(READ_WINDOW);
  });

  test("reasons beyond the first six fold into other; counters persist through the store (saved at failures)", () => {
    let saved: ReaderCareState | undefined;
    const store = { load: () => saved, save: (state: ReaderCareState) => (saved = state) };
    const care = new ReaderCare({ store });
    for (const reason of ["a", "b", "c", "d", "e", "f", "g", "h"]) care.record("contactless", reason);
    expect(Object.keys(care.state.contactless.reasons).sort()).toEqual(["a", "b", "c", "d", "e", "f", "other"]);
    expect(care.state.contactless.reasons.other).toBe(2);
    expect(new ReaderCare({ store }).state.contactless).toEqual(care.state.contactless);
    expect(() => care.record("nfc" as "contact")).toThrow("unknown reader");
  });
});

/** The terminal assembly on the emulated network: reads counted, the check screen, CLEAR after cleaning. */
describe("the terminal's 清洁和维护", () => {
  function terminalOnNetworkWith(store: ReaderCareStore): Terminal {
    const { terminal, clock } = terminalOnNetwork({ readerCare: store });
    terminal.boot();
    terminal.menu("networkCheck");
    clock.advance(30_000);
    return terminal;
  }

  test("a dirty head asks for cleaning; CLEAR on the check screen restarts its window, kept across a power cycle", () => {
    let saved: ReaderCareState | undefined;
    const store = { load: () => saved, save: (state: ReaderCareState) => (saved = state) };
    const terminal = terminalOnNetworkWith(store);
    for (let i = 0; i < 5; i++) terminal.readerResult("magstripe");
    for (let i = 0; i < CLEAN_AFTER_FAILURES; i++) terminal.readerResult("magstripe", "lrc");
    expect(terminal.ui.notice).toBe("noticeCleanMagstripe");
    terminal.press("enter");
    const again = terminalOnNetworkWith(store);
    expect(again.screen).toMatchObject({ kind: "diagnostics", ok: true, cleaning: ["magstripe"] });
    expect(render(again.screen, "zh").lines.slice(-2)).toEqual([fill("noticeCleanMagstripe", "zh"), fill("cleanedHint", "zh")]);
    again.press("clear");
    expect(again.ui.notice).toBe("noticeReadersCleaned");
    expect(again.screen.kind).toBe("idle");
    expect(saved?.magstripe).toMatchObject({ reads: 11, failures: CLEAN_AFTER_FAILURES, windowReads: 0 });
    const cleaned = terminalOnNetworkWith(store);
    expect(cleaned.screen).toMatchObject({ kind: "diagnostics", cleaning: [], readers: [] });
  });
});
