import { crc32 } from "../../../modules/base/crc32";
import { fromAscii } from "../../../modules/base/hex";

describe("crc32", () => {
  test("standard check value", () => {
    expect(crc32(fromAscii("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
  test("continues over pieces and ranges", () => {
    const data = fromAscii("123456789");
    expect(crc32(data, 4, 9, crc32(data, 0, 4))).toBe(0xcbf43926);
  });
});
