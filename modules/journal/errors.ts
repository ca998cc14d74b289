/** Typed errors of the reversal journal: bad input, wrong state, full, failed writes. */

/** A field the caller passed cannot be stored (docs/journal-format.md §4). */
export class JournalInputError extends Error {
  override readonly name = "JournalInputError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The call does not fit the record's state (e.g. `approve` on a reversal-due record). */
export class JournalStateError extends Error {
  override readonly name = "JournalStateError";
  constructor(
    readonly seq: number,
    readonly state: string,
    message: string,
  ) {
    super(message);
  }
}

/** No room for another transaction: settle, or resolve pending reversals, first. */
export class JournalFullError extends Error {
  override readonly name = "JournalFullError";
  constructor(
    readonly liveRecords: number,
    readonly capacity: number,
    message: string,
  ) {
    super(message);
  }
}

/** A write did not read back as written, several times: the flash is failing. */
export class JournalWriteError extends Error {
  override readonly name = "JournalWriteError";
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** The journal saw a flash failure or power cut; reopen it (recovery runs again). */
export class JournalClosedError extends Error {
  override readonly name = "JournalClosedError";
}

/** The flash image is not a journal at all (inspect) or its geometry does not match. */
export class JournalFormatError extends Error {
  override readonly name = "JournalFormatError";
}
