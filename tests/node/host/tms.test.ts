/**
 * The TMS end to end (docs/tms.md): images of every kind published on the host are served to a terminal
 * through MAC'd 0800/0810 (manifest, then chunks), the manifest's signature and the image's SHA-256 check
 * out or not as the kind says, a download resumes from any offset, and publishing works through the
 * control API and `tools/xspos host publish`.
 */
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TmsClient } from "../../../modules/tms/client";
import { TmsError } from "../../../modules/tms/errors";
import { manifestBytes } from "../../../modules/tms/manifest";
import { MAX_IMAGE_CHUNK_BYTES, type ImageManifest } from "../../../modules/tms/source";
import { SeededRandom } from "../../../modules/platform/random";
import { ControlApi } from "../../../tools/host/control";
import { HostCore, PROCESSING_TMS_CHECK } from "../../../tools/host/core";
import { DEFAULT_TERMINALS, registry } from "../../../tools/host/terminals";
import { TestTerminal } from "../../../tools/host/test-terminal";
import { FaultSchedule } from "../../../tools/host/faults";
import { buildImage, DEFAULT_IMAGE_BYTES, IMAGE_KINDS, testImage, TmsPublications, type ImageKind } from "../../../tools/host/tms";
import { nodeImageSigner, testPublicKey, verifyManifestSignature } from "../../../tools/host/tms-signing";
import { fromHex, toHex } from "../../../modules/base/hex";
import { SIGNED_MANIFESTS } from "../../fixtures/update/signed-images";
import { TEST_PUBLIC_KEY_HEX } from "../../fixtures/update/test-images";
import { runScenario } from "../../../tools/scenario/runner";
import { parseScenario } from "../../../tools/scenario/scenario-file";
import { MemoryLedger } from "../../../tools/scenario/memory-ledger";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const signer = nodeImageSigner();

interface Download {
  manifest?: ImageManifest;
  bytes?: Uint8Array;
  error?: TmsError;
  chunks: number;
}

/** Downloads the whole published image with the callback API, `chunkBytes` at a time, from `fromOffset`. */
function download(tms: TmsClient, out: Download, chunkBytes = MAX_IMAGE_CHUNK_BYTES, fromOffset = 0): void {
  tms.requestManifest((manifest) => {
    if (manifest instanceof TmsError) return void (out.error = manifest);
    if (manifest === undefined) return;
    out.manifest = manifest;
    out.bytes ??= new Uint8Array(manifest.sizeBytes);
    const next = (offset: number): void => {
      if (offset >= manifest.sizeBytes) return;
      tms.requestChunk(offset, chunkBytes, (chunk) => {
        if (chunk instanceof TmsError) return void (out.error = chunk);
        out.bytes!.set(chunk, offset);
        out.chunks++;
        next(offset + chunk.length);
      });
    };
    next(fromOffset);
  });
}

/** A scenario that publishes `kind` and, at its tmsCheck, hands `check` a client on the terminal's TMS exchange. */
function run(kind: ImageKind, check: (tms: TmsClient) => void) {
  const scenario = parseScenario({
    steps: [
      { op: "powerOn" },
      { op: "signOn" },
      { op: "drain" },
      { op: "tmsPublish", image: { version: "1.1.0", kind } },
      { op: "tmsCheck" },
      { op: "drain" },
    ],
  });
  return runScenario(scenario, { imageSigner: signer, tmsProbe: (exchange) => check(new TmsClient({ exchange })) });
}

const sha256 = (bytes: Uint8Array) => new Uint8Array(crypto.createHash("sha256").update(bytes).digest());

describe("images of every kind, served and checked", () => {
  test.each(IMAGE_KINDS.map((k) => [k]))("%s", (kind) => {
    const out: Download = { chunks: 0 };
    const events = run(kind, (tms) => download(tms, out)).events;
    expect(out.error).toBeUndefined();
    const manifest = out.manifest!;
    expect(manifest).toMatchObject({ version: "1.1.0", sizeBytes: DEFAULT_IMAGE_BYTES });
    expect(out.chunks).toBe(Math.ceil(DEFAULT_IMAGE_BYTES / MAX_IMAGE_CHUNK_BYTES));
    const signatureGood = verifyManifestSignature(manifestBytes(manifest), manifest.signature);
    const hashGood = Buffer.from(sha256(out.bytes!)).equals(Buffer.from(manifest.sha256));
    expect([signatureGood, hashGood]).toEqual([kind !== "badSignature", kind !== "corrupt"]);
    const header = Buffer.from(out.bytes!.subarray(0, 64)).toString("latin1");
    expect(header).toContain(`XSPOS-TEST-IMAGE\nversion=1.1.0\nbehaviour=${kind === "crashesOnBoot" ? "crashesOnBoot" : "good"}\n`);
    // Every TMS message went out MAC'd and came back approved; none was discarded.
    expect(events.filter((e) => e.ev === "recv" && e.mti === "0810" && e.f39 !== "00").map((e) => e.f39)).toEqual([]);
    expect(events.some((e) => e.ev === "recv" && e.discarded === true)).toBe(false);
    expect(events.at(-1)).toMatchObject({ ev: "reconcile", agree: true });
  });
});

describe("the TMS channel", () => {
  test("a download resumes from any offset after the manifest is asked again (as after a power cut) and gives the same bytes", () => {
    const whole: Download = { chunks: 0 };
    const resumed: Download = { chunks: 0 };
    run("good", (tms) => {
      download(tms, whole, 300);
      // As after a reboot: the manifest asked again, then from offset 2000 on, in odd sizes.
      resumed.bytes = new Uint8Array(DEFAULT_IMAGE_BYTES);
      resumed.bytes.set(testImage("1.1.0", "good", DEFAULT_IMAGE_BYTES).subarray(0, 2000));
      download(tms, resumed, 77, 2000);
    });
    expect(whole.error).toBeUndefined();
    expect(resumed.error).toBeUndefined();
    expect(Array.from(resumed.bytes!)).toEqual(Array.from(whole.bytes!));
    expect(Array.from(whole.bytes!)).toEqual(Array.from(testImage("1.1.0", "good", DEFAULT_IMAGE_BYTES)));
  });

  test("with nothing published the manifest is undefined and a chunk is refused before anything is sent", () => {
    const results: unknown[] = [];
    const scenario = parseScenario({ steps: [{ op: "powerOn" }, { op: "signOn" }, { op: "drain" }, { op: "tmsCheck" }, { op: "drain" }] });
    runScenario(scenario, {
      imageSigner: signer,
      tmsProbe: (exchange) => {
        const tms = new TmsClient({ exchange });
        tms.requestManifest((m) => {
          results.push(m);
          tms.requestChunk(0, 10, (c) => results.push(c instanceof TmsError ? c.reason : c));
        });
      },
    });
    expect(results).toEqual([undefined, "badRequest"]);
  });

  test("the host's publications: due until fetched, parameter reports kept, malformed requests answered 30", () => {
    const tms = new TmsPublications();
    expect(tms.due("10000001")).toBe(false);
    tms.publishParameters({ amountMaxMinor: 5000 });
    expect(tms.due("10000001")).toBe(true);
    expect(tms.answer("10000001", "360", undefined, 0).code).toBe("00");
    expect(tms.due("10000001")).toBe(false);
    tms.publishImage(buildImage({ version: "2.0.0", kind: "good", sizeBytes: 100 }, signer));
    expect(tms.due("10000001")).toBe(true);
    expect(tms.answer("10000001", "390", undefined, 0).f62?.length).toBe(51 + "2.0.0".length + 64);
    expect(tms.answer("10000001", "391", Uint8Array.of(1, 2, 3), 0).code).toBe("30");
    expect(tms.answer("10000001", "391", Uint8Array.of(0, 2, 0, 0, 0, 0, 0, 0, 0, 100, 0, 10), 0).code).toBe("12");
    expect(tms.answer("10000001", "391", Uint8Array.of(0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10), 0).code).toBe("25");
    expect(tms.answer("10000001", "361", Uint8Array.of(9), 0).code).toBe("30");
    expect(tms.answer("10000001", "361", Uint8Array.of(1, 0, 0, 0, 7, 0x41), 5).code).toBe("00");
    expect(tms.reports).toEqual([{ tid: "10000001", atMs: 5, applied: false, blockCrc32: 7, reason: "A" }]);
    expect(() => tms.publishParameters({ nosuch: 1 })).toThrow("not a terminal parameter");
    expect(() => buildImage({ version: "1.2", kind: "good" }, signer)).toThrow("major.minor.patch");
  });
});

describe("the signed bytes and the key are the update room's", () => {
  test("the update suites' signed manifests verify over manifestBytes with the one TEST key", () => {
    const m = SIGNED_MANIFESTS.v120;
    const manifest = { version: m.version, sizeBytes: m.sizeBytes, sha256: fromHex(m.sha256), signature: fromHex(m.signature) };
    expect(verifyManifestSignature(manifestBytes(manifest), manifest.signature)).toBe(true);
    expect(verifyManifestSignature(manifestBytes({ ...manifest, version: "1.2.1" }), manifest.signature)).toBe(false);
  });

  test("the host's signatures are deterministic (a seed replays byte for byte) and verify as ECDSA P-256", () => {
    for (const text of ["", "xspos-image-1", "a".repeat(100)]) {
      const message = new TextEncoder().encode(text);
      const signature = signer.sign(message);
      expect(Array.from(signer.sign(message))).toEqual(Array.from(signature));
      expect(verifyManifestSignature(message, signature)).toBe(true);
    }
  });

  test("the public key the core suites are provisioned with is the TEST key's", () => {
    expect(toHex(testPublicKey())).toBe(TEST_PUBLIC_KEY_HEX);
  });
});

describe("TMS messages are MAC'd both ways", () => {
  test("the host answers A0 to a TMS 0800 without a MAC or with a wrong one, and MACs its 0810s", () => {
    const core = new HostCore({ ledger: new MemoryLedger(), terminals: registry(DEFAULT_TERMINALS), random: new SeededRandom(3) });
    core.tms.publishParameters({ amountMaxMinor: 5000 });
    const terminal = new TestTerminal(DEFAULT_TERMINALS[0]);
    const signOn = terminal.acceptSignOn(core.handle(terminal.signOn("000001"), { nowMs: 0 }).response!);
    expect(signOn.header![5]).toBe(PROCESSING_TMS_CHECK); // something published, not fetched yet
    const request = (stan: string, mac: boolean) =>
      ({
        tpdu: terminal.identity.tpdu,
        header: terminal.identity.header,
        mti: "0800",
        fields: {
          11: stan,
          41: terminal.identity.tid,
          42: terminal.identity.mid,
          60: "00000001360",
          ...(mac ? { 64: "0000000000000000" } : {}),
        },
      }) as const;
    const unsigned = terminal.decode(core.handle(terminal.encode(request("000002", false)), { nowMs: 0 }).response!);
    expect([unsigned.fields[39], unsigned.fields[62]]).toEqual(["A0", undefined]);
    const spoiled = terminal.encode(request("000003", true));
    spoiled[spoiled.length - 1] ^= 1;
    expect(terminal.decode(core.handle(spoiled, { nowMs: 0 }).response!).fields[39]).toBe("A0");
    const good = core.handle(terminal.encode(request("000004", true)), { nowMs: 0 }).response!;
    expect(terminal.decode(good).fields).toMatchObject({ 39: "00", 60: "00000001360", 62: "05021388" });
    expect(terminal.macValid(good)).toBe(true);
    // Fetched: the next sign-on does not ask for a check.
    expect(terminal.acceptSignOn(core.handle(terminal.signOn("000005"), { nowMs: 0 }).response!).header![5]).toBe("0");
  });

  test("the terminal refuses a TMS answer without its MAC or with a bad one, and applies the good one after", () => {
    const events = runScenario(
      parseScenario({
        steps: [
          { op: "powerOn" },
          { op: "signOn" },
          { op: "drain" },
          { op: "tmsPublish", parameters: { amountMaxMinor: 5000 } },
          { op: "hostFault", fault: { kind: "stripMac", mti: "0800" } },
          { op: "tmsCheck" },
          { op: "drain" },
          { op: "hostFault", fault: { kind: "badMac", mti: "0800" } },
          { op: "tmsCheck" },
          { op: "drain" },
          { op: "tmsCheck" },
          { op: "drain" },
        ],
      }),
    ).events;
    expect(events.filter((e) => e.ev === "parameters").map((e) => [e.state, e.reason])).toEqual([
      ["failed", "badMac"],
      ["failed", "badMac"],
      ["applied", undefined],
    ]);
  });
});

describe("publishing through the control API and the CLI", () => {
  let api: ControlApi;
  let url: string;
  const publications = new TmsPublications();

  beforeAll(async () => {
    api = new ControlApi({ faults: new FaultSchedule(), ledger: new MemoryLedger(), tms: { publications, signer } });
    url = (await api.listen()).url;
  });
  afterAll(() => api.close());

  test("POST /tms publishes parameters and images; GET /tms shows them; bad bodies are 400", async () => {
    const post = (body: unknown) => fetch(`${url}/tms`, { method: "POST", body: JSON.stringify(body) });
    expect((await post({ parameters: { amountMaxMinor: 5000, hotlineText: "95516" } })).status).toBe(201);
    expect((await post({ image: { version: "1.1.0", kind: "corrupt", sizeBytes: 1000 } })).status).toBe(201);
    const shown = (await (await fetch(`${url}/tms`)).json()) as Record<string, unknown>;
    expect(shown).toMatchObject({
      parameters: { amountMaxMinor: 5000, hotlineText: "95516" },
      image: { version: "1.1.0", kind: "corrupt", sizeBytes: 1000 },
    });
    for (const bad of [
      {},
      { parameters: { nosuch: 1 } },
      { image: { version: "x", kind: "good" } },
      { image: { version: "1.0.0", kind: "evil" } },
      [],
    ])
      expect((await post(bad)).status).toBe(400);
  });

  test("tools/xspos host publish posts to the control API; a refusal exits 2", async () => {
    const cli = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        // Asynchronous: the control API answers on this process's event loop.
        const child = spawn(path.join(ROOT, "tools/xspos"), args, { cwd: ROOT });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d));
        child.stderr.on("data", (d: Buffer) => (stderr += d));
        child.on("close", (status: number | null) => resolve({ status, stdout, stderr }));
      });
    const ok = await cli(["host", "publish", "--control", url, "--image", "1.2.0", "--kind", "good", "--size", "600"]);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ image: { version: "1.2.0", kind: "good", sizeBytes: 600 } });
    const params = await cli(["host", "publish", "--control", url, "--parameters", '{"reversalAttempts":5}']);
    expect(params.status).toBe(0);
    expect(JSON.parse(params.stdout)).toMatchObject({ parameters: { reversalAttempts: 5 } });
    const refused = await cli(["host", "publish", "--control", url, "--parameters", '{"nosuch":1}']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("not a terminal parameter");
    expect(spawnSync(path.join(ROOT, "tools/xspos"), ["host", "publish", "--image", "1.0.0"], { cwd: ROOT }).status).toBe(2);
  }, 60_000);
});
