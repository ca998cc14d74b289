/**
 * A sign-on answer whose working keys this terminal cannot take: wrapped under another master key (their
 * check values fail), or no master key loaded at all. The keys are not trusted, the sign-on fails, and
 * nothing that needs them goes out. In Node and in XS.
 */
import { fromHex } from "../../../modules/base/hex";
import { MemoryKeyStore } from "../../../modules/crypto/key-store";
import { SecretKey } from "../../../modules/crypto/keys";
import type { TerminalEvent } from "../../../modules/terminal/terminal";
import { CardDesk } from "../../../tools/scenario/card-desk";
import { terminalOnNetwork } from "./network-terminal";

function signOnWith(keys: MemoryKeyStore): string[] {
  const events: TerminalEvent[] = [];
  const { terminal, clock, random, wallClock } = terminalOnNetwork({ keys, onEvent: (event) => events.push(event) });
  terminal.boot();
  terminal.run("signOn");
  clock.advance(30_000);
  const cards = new CardDesk({ ifdSerial: "XSPOS001", random, nowMs: () => wallClock.nowMs() });
  terminal.run("sale", { amount: 100, card: cards.present("unionpay-msr", "sale", 100), pin: "1234" });
  clock.advance(30_000);
  return events
    .filter((e) => e.ev === "send" || e.ev === "recv" || e.ev === "result")
    .map((e) => (e.ev === "result" ? `result ${e.op} ${e.outcome} ${e.refusal ?? e.f39 ?? ""}`.trim() : `${e.ev} ${e.mti}`));
}

test("working keys under another master key: the sign-on fails and a sale is refused notSignedOn, nothing sent", () => {
  const keys = new MemoryKeyStore();
  keys.saveMasterKey(new SecretKey("tdes", fromHex("1111111111111111222222222222222F")));
  expect(signOnWith(keys)).toEqual(["send 0800", "recv 0810", "result signOn failed 00", "result sale refused notSignedOn"]);
});

test("no master key loaded: the sign-on fails the same way", () => {
  expect(signOnWith(new MemoryKeyStore())).toEqual([
    "send 0800",
    "recv 0810",
    "result signOn failed 00",
    "result sale refused notSignedOn",
  ]);
});
