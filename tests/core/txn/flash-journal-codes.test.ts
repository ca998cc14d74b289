// An approval without F38 (auth code) or F37 (RRN): what the flash journal keeps and gives back, before and after a reboot.
import { fromHex } from "../../../modules/base/hex";
import { SecretKey } from "../../../modules/crypto/keys";
import { NorFlash } from "../../../modules/emulators/nor-flash";
import { SeededRandom } from "../../../modules/platform/random";
import { FlashJournal } from "../../../modules/txn/flash-journal";
import type { ApprovedRecord, CardOnFile, ReversalRecord } from "../../../modules/txn/ports";

const IDENTITY = { terminalId: "10000001", merchantId: "898100012340001", ifdSerial: "XSPOS001" };
const CARD: CardOnFile = { pan: "4761730000000011", expiry: "3012", domestic: false };

function journal(flash: NorFlash): FlashJournal {
  const j = new FlashJournal({
    flash,
    dataKey: new SecretKey("sm4", fromHex("00112233445566778899AABBCCDDEEFF")),
    random: new SeededRandom(3),
    identity: IDENTITY,
    nowSeconds: () => 1_768_467_600,
  });
  j.recover();
  return j;
}

function armed(stan: string): ReversalRecord {
  const fields = { 3: "000000", 4: "000000001234", 11: stan, 22: "021", 25: "00", 41: "10000001", 42: "898100012340001", 49: "156" };
  return { stan, batch: "000001", op: "sale", amount: 1234, fields: { ...fields, 60: "22000001" }, state: "armed" };
}

function approval(stan: string, authCode: string, rrn: string): ApprovedRecord {
  return { stan, batch: "000001", op: "sale", amount: 1234, panMasked: "", ...CARD, authCode, rrn };
}

const codesOf = (r: ApprovedRecord | undefined) => (r === undefined ? undefined : { authCode: r.authCode, rrn: r.rrn });

describe("FlashJournal: an approval's F38 and F37", () => {
  const CASES: [string, string, string][] = [
    ["000002", "", ""],
    ["000003", "", "000000004242"],
    ["000004", "A1B2C3", ""],
    ["000005", "123456", "261125000042"],
  ];

  test("kept as answered, an absent one as empty (never six spaces or twelve zeros), after a reboot too", () => {
    const flash = new NorFlash({ sectorCount: 6, blockSize: 1024, seed: 5 });
    const j = journal(flash);
    for (const [stan, authCode, rrn] of CASES) {
      j.arm(armed(stan), CARD);
      j.approve(approval(stan, authCode, rrn));
      expect(codesOf(j.approved(stan))).toEqual({ authCode, rrn });
    }
    const expected = CASES.map(([stan, authCode, rrn]) => ({ stan, authCode, rrn }));
    const walk = (k: FlashJournal) => {
      const seen: { stan: string; authCode: string; rrn: string }[] = [];
      k.forEachApproved((r) => {
        seen.push({ stan: r.stan, authCode: r.authCode, rrn: r.rrn });
        return true;
      });
      return seen;
    };
    expect(walk(j)).toEqual(expected);
    const rebooted = journal(flash);
    expect(walk(rebooted)).toEqual(expected);
    for (const [stan, authCode, rrn] of CASES) expect(codesOf(rebooted.approved(stan))).toEqual({ authCode, rrn });
  });
});
