/** The Iso8583Error that `run` throws; any other error, or none, fails the test. */
import { Iso8583Error } from "../../../modules/iso8583";

export function isoErrorOf(run: () => unknown): Iso8583Error {
  try {
    run();
  } catch (error) {
    if (error instanceof Iso8583Error) return error;
    throw error;
  }
  throw new Error("no Iso8583Error: it ran without an error");
}

/** Where and why `run` was refused: the field, byte offset and reason of its Iso8583Error. */
export function isoErrorWhere(run: () => unknown): [number, number, string] {
  const error = isoErrorOf(run);
  return [error.field, error.offset, error.reason];
}
