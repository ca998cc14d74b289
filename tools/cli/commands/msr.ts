/**
 * `xspos msr decode --bits BITS`: decodes one magnetic stripe track from the
 * bits sampled at each strobe (docs/contracts.md "Card reading").
 */
import { UsageError, parseOptions, type Command } from "../command";
import { bitsFromText, decodeMsr, MsrError } from "../../../modules/card/msr";
import { maskPan } from "../../../modules/platform/log";

export const command: Command = {
  summary: "decode a magnetic stripe track from strobe-sampled bits",
  usage: ["msr decode --bits BITS    BITS in time order, 0/1, 1 = data line active"],
  run(args) {
    const [verb, ...rest] = args;
    if (verb !== "decode") throw new UsageError(`msr: unknown verb ${JSON.stringify(verb ?? "")}; try: tools/xspos msr decode --bits BITS`);
    const { values, positionals } = parseOptions(rest, { bits: { type: "string" } }, false);
    if (positionals.length > 0 || values.bits === undefined) throw new UsageError("msr decode: --bits BITS is required");
    try {
      const bits = bitsFromText(values.bits);
      const track = decodeMsr(bits, bits.length);
      // The PAN is masked like every other output of this project (PCI DSS): first 6 / last 4.
      const out = {
        track: track.track,
        pan: maskPan(track.pan),
        expiry: track.expiry,
        serviceCode: track.serviceCode,
        direction: track.direction,
      };
      track.wipe();
      bits.fill(0);
      console.log(JSON.stringify(out));
      return 0;
    } catch (error) {
      if (error instanceof MsrError) throw new UsageError(`msr decode: ${error.message}`);
      throw error;
    }
  },
};
