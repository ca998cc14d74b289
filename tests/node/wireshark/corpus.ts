/**
 * Every message the builders make (modules/iso8583 builders and the firmware's
 * modules/txn/messages reversal), plus the public samples, as framed CUP
 * bytes: what the dissector test captures and decodes with tshark.
 */
import { fromHex } from "../../../modules/base/hex";
import {
  CUP,
  Iso8583Codec,
  buildBalance,
  buildBatchUpload,
  buildEcho,
  buildRefund,
  buildSale,
  buildSettlement,
  buildSignOff,
  buildSignOn,
  buildVoid,
  type CardData,
  type IsoMessage,
} from "../../../modules/iso8583";
import { reversal, reversalFields } from "../../../modules/txn/messages";
import { IC_SALE, IC_SALE_RESPONSE_FRAMED, SALE_ICC, SIGN_ON_FRAMED } from "../../core/iso8583/samples";

const terminal = { tpdu: "6000030000", header: "603100311312", tid: "10000159", mid: "880210010210160", readCapability: "6" };
const base = { terminal, stan: "000042", batch: "000001" };
const chip: CardData = {
  pan: "6217973910000725090",
  expiry: "2312",
  entryMode: "051",
  cardSequence: "001",
  icc: SALE_ICC,
  pinBlock: "086BDB118D7AC25E",
  security: { pinFormat: "2", algorithm: "6", trackEncrypted: false },
};
const swipe: CardData = { entryMode: "022", track2: "6217973910000725090D2312", track3: "996217973910000725090D1561560000" };
const original = { batch: "000001", stan: "000023", rrn: "123456789012", authCode: "A1B2C3", date: "1115" };
const totals = {
  domestic: { debitAmount: 123456, debitCount: 7, creditAmount: 100, creditCount: 1, result: "0" },
  foreign: { debitAmount: 0, debitCount: 0, creditAmount: 0, creditCount: 0, result: "0" },
};

export interface CorpusMessage {
  readonly name: string;
  /** Framed: 2-byte length, TPDU, header, MTI, bitmap, fields. */
  readonly bytes: Uint8Array;
}

export function builderMessages(): CorpusMessage[] {
  const codec = new Iso8583Codec({ dialect: CUP, framed: true });
  const encode = (m: IsoMessage) => codec.encode(m).slice();
  const sale = buildSale({ ...base, amount: 5588, card: chip });
  const built: [string, IsoMessage][] = [
    ["0800 sign-on", buildSignOn({ ...base, stan: "000001", netCode: "003", operator: "01 ", terminalInfo: "53657175656E6365" })],
    ["0820 sign-off", buildSignOff(base)],
    ["0820 echo", buildEcho(base)],
    ["0200 chip sale", sale],
    ["0200 swiped sale", buildSale({ ...base, amount: 100, card: swipe })],
    ["0200 balance", buildBalance({ ...base, card: swipe })],
    ["0200 void", buildVoid({ ...base, amount: 5588, card: swipe, original })],
    ["0220 refund", buildRefund({ ...base, amount: 100, card: swipe, original })],
    ["0400 reversal", { ...reversal({ fields: reversalFields(sale) }, "98"), tpdu: sale.tpdu, header: sale.header }],
    ["0500 settlement", buildSettlement({ ...base, totals, operator: "01 " })],
    ["0320 batch upload 203", buildBatchUpload({ ...base, netCode: "203", card: chip, amount: 5588 })],
    ["0320 batch upload 207", buildBatchUpload({ ...base, netCode: "207", records: "00" })],
  ];
  const unframed = fromHex(IC_SALE);
  const icSale = new Uint8Array(2 + unframed.length);
  icSale.set([unframed.length >> 8, unframed.length & 0xff]);
  icSale.set(unframed, 2);
  return [
    ...built.map(([name, m]) => ({ name, bytes: encode(m) })),
    { name: "sample 0800 sign-on", bytes: fromHex(SIGN_ON_FRAMED) },
    { name: "sample 0200 IC sale", bytes: icSale },
    { name: "sample 0210 response", bytes: fromHex(IC_SALE_RESPONSE_FRAMED) },
  ];
}
