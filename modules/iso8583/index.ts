/** The ISO 8583 codec: dialect tables, codec, sub-field codecs, BER-TLV, message builders. */
export * from "./codec";
export * from "./dialect";
export * from "./error";
export * from "./messages";
export * from "./subfields";
export * from "./tlv";
