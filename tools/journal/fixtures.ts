/**
 * Transactions, identity and cipher for journal tests, torture and bench.
 * Pure ES2022 (runs in XS too). The cipher is the project's SM4-GCM
 * (modules/crypto/aead.ts) under a fixed test key.
 */
import { sm4Gcm } from "../../modules/crypto/aead";
import { SecretKey } from "../../modules/crypto/keys";
import type { TerminalIdentity } from "../../modules/journal/format";
import type { PanCipher, TransactionData } from "../../modules/journal/record";
import type { SeededRandom } from "../../modules/platform/random";

export const TEST_IDENTITY: TerminalIdentity = Object.freeze({
  terminalId: "10000159",
  merchantId: "898100012340003",
  ifdSerial: "SN000001",
});

export function testCipher(): PanCipher {
  const key = new Uint8Array(16);
  for (let i = 0; i < 16; i++) key[i] = 0x10 + i;
  return sm4Gcm(new SecretKey("sm4", key));
}

/** A chip sale as the engine would arm it (F55 subset 95/9F36/9F10 of 18 bytes). */
export function chipSale(stan: number, batch: number, amount: number): TransactionData {
  const iad = new Uint8Array(18);
  for (let i = 0; i < iad.length; i++) iad[i] = (stan + i) & 0xff;
  return {
    mti: "0200",
    processingCode: "000000",
    amount,
    stan: String(stan % 1000000).padStart(6, "0"),
    batch: String(batch % 1000000).padStart(6, "0"),
    timeSeconds: 1700000000 + stan,
    expiry: "2912",
    entryMode: "051",
    cardSequence: "001",
    conditionCode: "00",
    currency: "156",
    f60: "22" + String(batch % 1000000).padStart(6, "0") + "00050",
    domestic: true,
    emv: { tvr: new Uint8Array([0, 0, 0x80, 0, 0]), atc: new Uint8Array([0, stan & 0xff]), issuerApplicationData: iad },
  };
}

export const TEST_PAN = "6225880123456789012";

/** A random transaction of any shape the engine sends. */
export function randomTransaction(random: SeededRandom, stan: number, batch: number): TransactionData {
  const sale = chipSale(stan, batch, 1 + random.below(999999));
  if (random.chance(0.5)) return sale;
  return {
    mti: "0200",
    processingCode: random.chance(0.5) ? "000000" : "200000",
    amount: random.below(100000),
    stan: sale.stan,
    batch: sale.batch,
    timeSeconds: sale.timeSeconds,
    entryMode: "021",
    conditionCode: "00",
    currency: "156",
    f60: sale.f60,
    ...(random.chance(0.3) ? { f61: sale.batch + "000001" } : {}),
    domestic: random.chance(0.7),
  };
}
