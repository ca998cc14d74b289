/**
 * The updater over emulated flash (tests/core/update/rig.ts): each kind of publication, the wait for
 * a clean journal, the trial boot's confirm and rollback, anti-rollback; in Node and in XS.
 */
import { MAX_IMAGE_CHUNK_BYTES } from "../../../modules/tms/source";
import { verifyP256Sha256, type P256Check } from "../../../modules/crypto/p256";
import { sha256 } from "../../../modules/crypto/sha256";
import { sha256KnownAnswer, updateSelfTest } from "../../../modules/update/self-test";
import { CHUNK_ATTEMPTS_MAX } from "../../../modules/update/updater";
import { Device, TestSource, chip, manifestOf } from "./rig";

const chunksFor = (bytes: number) => Math.ceil(bytes / MAX_IMAGE_CHUNK_BYTES);

/** Check, activate and boot `name` into its trial on `flash`; the trial device. */
async function installTrial(flash: ReturnType<typeof chip>, name: "v110" | "v120"): Promise<Device> {
  const device = new Device(flash);
  expect(device.updater.powerOn()).toBe(true);
  await device.updater.check(new TestSource(name));
  expect(device.restarts).toBe(1);
  const trial = new Device(flash);
  expect(trial.updater.powerOn()).toBe(true);
  expect(trial.updater.trial).toBe(true);
  return trial;
}

describe("updater: publications", () => {
  test("a good image: available, downloading, verified, activated; its first boot is a trial; confirmed after it passes", async () => {
    const flash = chip();
    const device = new Device(flash);
    device.updater.powerOn();
    expect(device.slots.running).toEqual({ version: "1.0.0", pendingVerification: false });
    const source = new TestSource("v110");
    await device.updater.check(source);
    expect(device.story).toEqual(["available/1.1.0", "downloading/1.1.0", "verified/1.1.0", "activated/1.1.0"]);
    // Chunks of at most MAX_IMAGE_CHUNK_BYTES fill each 1024-byte block: 8 whole blocks, then the last 808 bytes.
    expect(source.chunks).toBe(8 * chunksFor(1024) + chunksFor(808));
    const trial = new Device(flash);
    expect(trial.updater.powerOn()).toBe(true);
    expect(trial.slots.running).toEqual({ version: "1.1.0", pendingVerification: true });
    trial.updater.bootPassed();
    expect(trial.story).toEqual(["confirmed/1.1.0"]);
    const after = new Device(flash);
    after.updater.powerOn();
    expect(after.slots.running).toEqual({ version: "1.1.0", pendingVerification: false });
    expect(after.updater.state).toBe("confirmed");
    expect(after.events).toEqual([]);
    // The same publication again: it runs already, nothing happens.
    await after.updater.check(new TestSource("v110"));
    expect(after.events).toEqual([]);
  });

  test("a confirmed trial image takes the next update in the same powered period (no restart between)", async () => {
    const flash = chip();
    const trial = await installTrial(flash, "v110");
    trial.updater.bootPassed();
    expect(trial.slots.running).toEqual({ version: "1.1.0", pendingVerification: false });
    await trial.updater.check(new TestSource("v120"));
    expect(trial.story).toEqual(["confirmed/1.1.0", "available/1.2.0", "downloading/1.2.0", "verified/1.2.0", "activated/1.2.0"]);
    const next = new Device(flash);
    next.updater.powerOn();
    expect(next.slots.running).toEqual({ version: "1.2.0", pendingVerification: true });
  });

  test("a bad signature is rejected before a byte is downloaded; the running version stays; asking again is silent", async () => {
    const flash = chip();
    const device = new Device(flash);
    device.updater.powerOn();
    const manifest = manifestOf("v110");
    const signature = manifest.signature.slice();
    signature[10] ^= 0x01;
    const source = new TestSource("v110", { manifest: { ...manifest, signature } });
    await device.updater.check(source);
    expect(device.story).toEqual(["available/1.1.0", "rejected/1.1.0/badSignature"]);
    expect(source.chunks).toBe(0);
    await device.updater.check(source);
    expect(device.events).toHaveLength(2);
    const next = new Device(flash);
    next.updater.powerOn();
    expect(next.slots.running.version).toBe("1.0.0");
    expect(next.updater.trial).toBe(false);
  });

  test("a manifest signed for another image (its digest changed) fails the signature too", async () => {
    const device = new Device(chip());
    device.updater.powerOn();
    const manifest = manifestOf("v110");
    const sha256 = manifest.sha256.slice();
    sha256[0] ^= 0x80;
    await device.updater.check(new TestSource("v110", { manifest: { ...manifest, sha256 } }));
    expect(device.story).toEqual(["available/1.1.0", "rejected/1.1.0/badSignature"]);
  });

  test("a corrupt image (the manifest is good, a byte of the image is not) is downloaded twice, then rejected", async () => {
    const flash = chip();
    const device = new Device(flash);
    device.updater.powerOn();
    const source = new TestSource("v110", { corruptAt: 5000 });
    await device.updater.check(source);
    expect(device.story).toEqual(["available/1.1.0", "downloading/1.1.0", "rejected/1.1.0/digestMismatch"]);
    expect(device.restarts).toBe(0);
    const next = new Device(flash);
    next.updater.powerOn();
    expect(next.slots.running).toEqual({ version: "1.0.0", pendingVerification: false });
    await next.updater.check(source);
    expect(next.events).toEqual([]);
  });

  test("an older image is rejected; the running version is not offered again", async () => {
    const device = new Device(chip());
    device.updater.powerOn();
    const older = new TestSource("v090");
    await device.updater.check(older);
    expect(device.story).toEqual(["available/0.9.0", "rejected/0.9.0/older"]);
    expect(older.chunks).toBe(0);
    await device.updater.check(new TestSource("v100"));
    expect(device.events).toHaveLength(2);
  });

  test("malformed manifests are rejected with a typed reason, never thrown", async () => {
    const device = new Device(chip());
    device.updater.powerOn();
    const manifest = manifestOf("v110");
    for (const bad of [
      { version: "1.1" },
      { version: "01.1.0" },
      { sizeBytes: 0 },
      { sizeBytes: 3 * 1024 * 1024 },
      { sha256: new Uint8Array(31) },
    ])
      await device.updater.check(new TestSource("v110", { manifest: { ...manifest, ...bad } }));
    expect(device.story.every((s) => s.endsWith("/malformed"))).toBe(true);
    expect(device.events).toHaveLength(5);
  });

  test("an image larger than the slot is rejected (tooLarge)", async () => {
    const device = new Device(chip());
    device.updater.powerOn();
    expect(device.slots.slotBytes).toBe(10 * 1024);
    const source = new TestSource("v130");
    await device.updater.check(source);
    expect(device.story).toEqual(["available/1.3.0", "rejected/1.3.0/tooLarge"]);
    expect(source.chunks).toBe(0);
  });
});

describe("updater: activation waits for a clean journal", () => {
  test("verified while a reversal is owed: waiting (the reason said), activated at the first clean moment", async () => {
    const device = new Device(chip());
    device.updater.powerOn();
    device.clean = false;
    await device.updater.check(new TestSource("v110"));
    expect(device.story).toEqual(["available/1.1.0", "downloading/1.1.0", "verified/1.1.0", "waiting/1.1.0/reversalPending"]);
    device.updater.activateWhenClean();
    device.updater.activateWhenClean();
    expect(device.events).toHaveLength(4);
    expect(device.restarts).toBe(0);
    device.clean = true;
    device.updater.activateWhenClean();
    expect(device.story.slice(4)).toEqual(["activated/1.1.0"]);
    expect(device.restarts).toBe(1);
  });

  test("waiting survives a power cycle; the next clean moment activates; a check meanwhile downloads nothing", async () => {
    const flash = chip();
    const device = new Device(flash);
    device.updater.powerOn();
    device.clean = false;
    const source = new TestSource("v110");
    await device.updater.check(source);
    const chunks = source.chunks;
    const next = new Device(flash);
    next.clean = false;
    next.updater.powerOn();
    expect(next.updater.state).toBe("waiting");
    await next.updater.check(source);
    expect(source.chunks).toBe(chunks);
    expect(next.events).toEqual([]);
    next.clean = true;
    next.updater.activateWhenClean();
    expect(next.story).toEqual(["activated/1.1.0"]);
  });
});

describe("updater: the trial boot", () => {
  test("an image that crashes at boot (never confirms): the next power-on runs the previous slot and reports the rollback once", async () => {
    const flash = chip();
    await installTrial(flash, "v110"); // ... and it dies before confirming
    const back = new Device(flash);
    expect(back.updater.powerOn()).toBe(true);
    expect(back.slots.running).toEqual({ version: "1.0.0", pendingVerification: false });
    expect(back.story).toEqual(["rolledBack/1.1.0/bootFailed"]);
    await back.updater.check(new TestSource("v110"));
    expect(back.events).toHaveLength(1);
    const again = new Device(flash);
    again.updater.powerOn();
    expect(again.events).toEqual([]);
  });

  test("a failed self-test rolls back at once with its reason; the old image reports it", async () => {
    const flash = chip();
    const trial = await installTrial(flash, "v110");
    trial.updater.bootFailed("selfTest");
    expect(trial.restarts).toBe(1);
    expect(trial.updater.trial).toBe(false);
    const back = new Device(flash);
    back.updater.powerOn();
    expect(back.slots.running.version).toBe("1.0.0");
    expect(back.story).toEqual(["rolledBack/1.1.0/selfTest"]);
  });

  test("nothing is downloaded during a trial; a newer image after a rollback installs normally", async () => {
    const flash = chip();
    const trial = await installTrial(flash, "v110");
    const source = new TestSource("v120");
    await trial.updater.check(source);
    expect(source.chunks).toBe(0);
    trial.updater.bootFailed("signOn");
    const back = new Device(flash);
    back.updater.powerOn();
    await back.updater.check(source);
    expect(back.story).toEqual(["rolledBack/1.1.0/signOn", "available/1.2.0", "downloading/1.2.0", "verified/1.2.0", "activated/1.2.0"]);
  });

  test("anti-rollback: once 1.2.0 is confirmed, 1.1.0 (validly signed) is refused as older", async () => {
    const flash = chip();
    const trial = await installTrial(flash, "v120");
    trial.updater.bootPassed();
    const next = new Device(flash);
    next.updater.powerOn();
    await next.updater.check(new TestSource("v110"));
    expect(next.story).toEqual(["available/1.1.0", "rejected/1.1.0/older"]);
  });
});

describe("updater: an interrupted download resumes", () => {
  test("the link drops mid-image: downloading/interrupted; the next check fetches only what is missing", async () => {
    const device = new Device(chip());
    device.updater.powerOn();
    const source = new TestSource("v110");
    source.failFrom = 4500;
    await device.updater.check(source);
    expect(device.story).toEqual(["available/1.1.0", "downloading/1.1.0", "downloading/1.1.0/interrupted"]);
    const before = source.chunks;
    source.failFrom = undefined;
    await device.updater.check(source);
    expect(device.story.slice(3)).toEqual(["downloading/1.1.0", "verified/1.1.0", "activated/1.1.0"]);
    // Blocks 0-3 (4 KiB) were in: only blocks 4-7 and the last 808 bytes are asked again.
    expect(source.chunks - before).toBe(4 * chunksFor(1024) + chunksFor(808));
  });

  test("a feed that answers later (as the host does): the same story, one chunk on the way at a time", () => {
    const flash = chip();
    const device = new Device(flash);
    device.updater.powerOn();
    const source = new TestSource("v110", { deferred: true });
    let over = false;
    device.updater.check(source, () => (over = true));
    expect(device.story).toEqual([]);
    let rounds = 0;
    while (source.deliver() > 0) rounds++;
    expect(over).toBe(true);
    expect(rounds).toBe(1 + 8 * chunksFor(1024) + chunksFor(808)); // the manifest, then each chunk in its turn
    expect(device.story).toEqual(["available/1.1.0", "downloading/1.1.0", "verified/1.1.0", "activated/1.1.0"]);
    // A second check while one runs is turned away at once.
    const other = new Device(chip(2));
    other.updater.powerOn();
    const slow = new TestSource("v110", { deferred: true });
    let firstOver = false;
    let secondOver = false;
    other.updater.check(slow, () => (firstOver = true));
    other.updater.check(new TestSource("v120"), () => (secondOver = true));
    expect(secondOver).toBe(true);
    while (slow.deliver() > 0);
    expect(firstOver).toBe(true);
    expect(other.story.filter((s) => s.includes("1.2.0"))).toEqual([]);
  });

  test("a chunk that fails CHUNK_ATTEMPTS_MAX times in a row interrupts; fewer failures are retried", () => {
    const device = new Device(chip());
    device.updater.powerOn();
    let failures = CHUNK_ATTEMPTS_MAX - 1;
    const source = new TestSource("v120");
    const flaky = {
      requestManifest: source.requestManifest.bind(source),
      requestChunk: (offset: number, length: number, done: (r: Uint8Array | Error) => void) =>
        failures-- > 0 ? done(new Error("timeout")) : source.requestChunk(offset, length, done),
    };
    device.updater.check(flaky);
    expect(device.story).toEqual(["available/1.2.0", "downloading/1.2.0", "verified/1.2.0", "activated/1.2.0"]);
    const again = new Device(chip(3));
    again.updater.powerOn();
    failures = CHUNK_ATTEMPTS_MAX;
    again.updater.check(flaky);
    expect(again.story).toEqual(["available/1.2.0", "downloading/1.2.0", "downloading/1.2.0/interrupted"]);
  });
});

describe("updater: the host's signature check", () => {
  test("the check the host hands judges the manifest: one that refuses all rejects a good image; one that agrees with the core's installs it", async () => {
    const refuseAll: P256Check = () => false;
    const refusing = new Device(chip(), refuseAll);
    refusing.updater.powerOn();
    await refusing.updater.check(new TestSource("v110"));
    expect(refusing.story).toEqual(["available/1.1.0", "rejected/1.1.0/badSignature"]);
    const calls: number[] = [];
    const counted: P256Check = (key, message, signature) => (calls.push(message.length), verifyP256Sha256(key, message, signature));
    const device = new Device(chip(), counted);
    device.updater.powerOn();
    await device.updater.check(new TestSource("v110"));
    expect(device.story).toEqual(["available/1.1.0", "downloading/1.1.0", "verified/1.1.0", "activated/1.1.0"]);
    expect(calls).toHaveLength(1);
  });

  test("the self-test tests the check it is given: the core's passes, one that accepts all or refuses all fails", () => {
    expect(updateSelfTest()).toBe(true);
    expect(updateSelfTest(verifyP256Sha256)).toBe(true);
    expect(updateSelfTest(() => true)).toBe(false);
    expect(updateSelfTest(() => false)).toBe(false);
  });

  test("the digest's known answer (how a native SHA-256 is chosen): SHA-256 passes; a wrong or short digest fails", () => {
    expect(sha256KnownAnswer(sha256)).toBe(true);
    expect(sha256KnownAnswer((bytes) => sha256(bytes.subarray(1)))).toBe(false);
    expect(sha256KnownAnswer((bytes) => sha256(bytes).subarray(0, 31))).toBe(false);
    expect(sha256KnownAnswer(() => new Uint8Array(32))).toBe(false);
  });
});
