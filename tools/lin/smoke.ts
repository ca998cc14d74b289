/**
 * `tools/lin/smoke.ts` (make native-smoke): the Linux terminal against the
 * host simulator over real TLS on loopback, pinned to the host's test CA:
 * sign-on, a sale, a sale whose answer never comes (timeout → 0400 with the
 * same STAN → reversed), then the host's ledger and the terminal's journal
 * must agree; then, on an A/B slots file, a corrupt image is rejected by its
 * digest (the native SHA-256, as on the ESP32) and a good one is verified,
 * activated (exit 75) and confirmed at its first boot. Prints one line per
 * step and the sale's terminal-side time;
 * writes artifacts/native-smoke.json. Exit 0 only when every step held.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startHost } from "../host/app";
import { fromHex } from "../../modules/base/hex";
import { parseFault } from "../host/faults";
import { buildImage, TMS_TEST_PUBLIC_KEY_HEX } from "../host/tms";
import { nodeImageSigner } from "../host/tms-signing";
import { reconcileEvent } from "../scenario/reconcile";
import { REPO_ROOT } from "./mc-config";
import { NATIVE_TERMINAL, NATIVE_TID, NativeTerminal, provisionForHost, swipeBits, type Line } from "./native-terminal";
import { EXIT_RESTART } from "../../hosts/lin/protocol";

const RESPONSE_TIMEOUT_MS = 2000;
/** The test images' size: big enough for many 4 KiB blocks through the digest, small enough for loopback. */
const UPDATE_IMAGE_BYTES = 96 * 1024;
const CARD = "unionpay-msr";
const PIN = "1234";

function step(name: string, ok: boolean, detail = ""): void {
  console.log(`native-smoke: ${ok ? "ok" : "FAILED"} ${name}${detail === "" ? "" : `: ${detail}`}`);
  if (!ok) throw new Error(`native-smoke: ${name} failed ${detail}`);
}

const isResult = (op: string) => (l: Line) => l.ev === "result" && l.op === op;

async function main(): Promise<number> {
  if (!fs.existsSync(NATIVE_TERMINAL)) {
    console.log(`native-smoke: skipped: ${path.relative(REPO_ROOT, NATIVE_TERMINAL)} is not built (make native-terminal)`);
    return 0;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-native-smoke-"));
  const host = await startHost({ varDir: path.join(work, "host"), db: ":memory:", port: 0, controlPort: 0 });
  let terminal: NativeTerminal | undefined;
  try {
    provisionForHost(
      path.join(work, "nvs"),
      host,
      { responseTimeoutMs: RESPONSE_TIMEOUT_MS },
      { releaseKey: fromHex(TMS_TEST_PUBLIC_KEY_HEX) },
    );
    terminal = new NativeTerminal({ flash: path.join(work, "flash.bin"), nvs: path.join(work, "nvs") });
    await terminal.waitFor((l) => l.ev === "boot");
    step("boot", true);

    terminal.send({ run: "signOn" });
    const signOn = await terminal.waitFor(isResult("signOn"));
    step("sign-on over TLS (pinned CA, server name)", signOn.outcome === "approved", JSON.stringify(signOn));

    const memory = async () => {
      const from = terminal!.lines.length;
      terminal!.send({ memory: true });
      return (await terminal!.waitFor((l) => l.memory !== undefined, 10_000, from)).memory as Record<string, number>;
    };
    const idle = await memory();
    const saleFrom = terminal.lines.length;
    terminal.send({ run: "sale", amount: 1234, swipe: swipeBits(CARD), pin: PIN });
    const sale = await terminal.waitFor(isResult("sale"), 30_000, saleFrom);
    step("sale approved", sale.outcome === "approved", JSON.stringify(sale));
    const saleLines = terminal.lines.slice(saleFrom);
    const at = (p: (l: Line) => boolean) => saleLines.find(p)?.t as number;
    const acceptedMs = at((l) => l.accepted === "sale");
    const sentMs = at((l) => l.ev === "send" && l.mti === "0200");
    const answeredMs = at((l) => l.ev === "recv" && l.mti === "0210");
    const terminalSideMs = (sale.t as number) - acceptedMs - (answeredMs - sentMs);
    const afterSale = await memory();

    host.core.faults.add(parseFault({ kind: "noResponse", mti: "0200" }));
    const timeoutFrom = terminal.lines.length;
    terminal.send({ run: "sale", amount: 500, swipe: swipeBits(CARD), pin: PIN });
    const timedOut = await terminal.waitFor(isResult("sale"), 30_000, timeoutFrom);
    step("sale without an answer times out", timedOut.outcome === "timeout", JSON.stringify(timedOut));
    const reversal = await terminal.waitFor((l) => l.ev === "send" && l.mti === "0400", 30_000, timeoutFrom);
    step("0400 with the sale's STAN", reversal.stan === timedOut.stan, `stan ${String(reversal.stan)}`);
    await terminal.waitFor((l) => l.ev === "journal" && l.state === "reversed" && l.stan === timedOut.stan, 30_000, timeoutFrom);
    step("reversal acknowledged, journal record reversed", true);

    const journal = await terminal.journal();
    const reconcile = reconcileEvent(host.ledger, NATIVE_TID, {
      settled: [],
      approved: journal.approved,
      reversalsPending: journal.pending.length,
    });
    step(
      "reconcile: host ledger and terminal journal agree",
      reconcile.agree === true && journal.pending.length === 0,
      JSON.stringify(reconcile),
    );
    await terminal.quit();
    step("quit", true);

    // Firmware updates on the slots file, digests by the native SHA-256 (image-digest.c over mbedtls, as on the ESP32):
    // a corrupt image is rejected by its digest, a good one verified, activated (exit 75) and confirmed at its first boot.
    const slots = path.join(work, "slots.bin");
    terminal = new NativeTerminal({ flash: path.join(work, "flash.bin"), nvs: path.join(work, "nvs"), slots });
    const route = await terminal.waitFor((l) => typeof l.line === "string" && l.line.startsWith("update: image digest route"), 10_000, 0);
    step("image digest in C", route.line === "update: image digest route route=native", JSON.stringify(route));
    const signer = nodeImageSigner();
    const check = async (version: string, state: string) => {
      const from = terminal!.lines.length;
      terminal!.send({ menu: "tmsCheck" });
      return terminal!.waitFor((l) => l.ev === "update" && l.version === version && l.state === state, 30_000, from);
    };
    host.core.tms.publishImage(buildImage({ version: "1.1.0", kind: "corrupt", sizeBytes: UPDATE_IMAGE_BYTES }, signer));
    const rejected = await check("1.1.0", "rejected");
    step("corrupt image rejected by its digest", rejected.reason === "digestMismatch", JSON.stringify(rejected));
    host.core.tms.publishImage(buildImage({ version: "1.2.0", kind: "good", sizeBytes: UPDATE_IMAGE_BYTES }, signer));
    await check("1.2.0", "verified");
    const exit = await terminal.exited;
    step("good image verified and activated: restart", exit.code === EXIT_RESTART, `exit ${exit.signal ?? exit.code}`);
    terminal = new NativeTerminal({ flash: path.join(work, "flash.bin"), nvs: path.join(work, "nvs"), slots });
    const boot = await terminal.waitFor((l) => l.ev === "boot", 10_000, 0);
    terminal.send({ run: "signOn" });
    await terminal.waitFor((l) => l.ev === "update" && l.state === "confirmed" && l.version === "1.2.0", 30_000, 0);
    step("first boot of 1.2.0 confirmed", boot.version === "1.2.0", JSON.stringify(boot));
    await terminal.quit();

    const figures = {
      saleTerminalSideMs: terminalSideMs,
      saleHostAnswerMs: answeredMs - sentMs,
      idleLive: { chunkBytes: idle.chunkBytes, heapSlots: idle.heapSlots },
      salePeak: { chunkBytes: afterSale.chunkBytesPeak, heapSlots: afterSale.heapSlotsPeak },
      afterSaleLive: { chunkBytes: afterSale.chunkBytes, heapSlots: afterSale.heapSlots },
      creation: { chunkBytes: afterSale.chunkBytesMax, heapSlots: afterSale.heapSlotsMax },
      binaryBytes: fs.statSync(NATIVE_TERMINAL).size,
    };
    console.log(`native-smoke: sale terminal-side ${terminalSideMs} ms (card read to approval, less the host's ${answeredMs - sentMs} ms)`);
    console.log(
      `native-smoke: XS during the sale: filled ${afterSale.chunkBytesPeak} of ${afterSale.chunkBytesMax} chunk bytes, ` +
        `${afterSale.heapSlotsPeak} of ${afterSale.heapSlotsMax} heap slots before a collection; live idle ${idle.chunkBytes} B / ${idle.heapSlots} slots, ` +
        `after the sale ${afterSale.chunkBytes} B / ${afterSale.heapSlots} slots`,
    );
    fs.mkdirSync(path.join(REPO_ROOT, "artifacts"), { recursive: true });
    fs.writeFileSync(path.join(REPO_ROOT, "artifacts/native-smoke.json"), JSON.stringify(figures, null, 2) + "\n");
    return 0;
  } catch (error) {
    console.log((error as Error).message);
    if (terminal !== undefined) console.log(terminal.tail(30));
    return 1;
  } finally {
    await terminal?.kill();
    await host.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();
