import type { EmulatedPicc } from "../../../modules/emulators/emv-card";

/** A card that answers every APDU with `length` bytes (0..n-1 mod 256) ‖ 90 00, echoing the command's INS first. */
export function echoCard(uid: number[], length: number): EmulatedPicc & { removed: boolean; received: Uint8Array[] } {
  const card = {
    uid: Uint8Array.from(uid),
    atqa: 0x0004,
    sak: 0x20,
    ats: Uint8Array.from([0x05, 0x78, 0x80, 0x70, 0x02]),
    removed: false,
    received: [] as Uint8Array[],
    respond(apdu: Uint8Array): Uint8Array | undefined {
      if (card.removed) return undefined;
      card.received.push(apdu.slice());
      const out = new Uint8Array(length + 2);
      for (let i = 0; i < length; i++) out[i] = i & 0xff;
      if (length > 0) out[0] = apdu[1];
      out[length] = 0x90;
      return out;
    },
  };
  return card;
}
