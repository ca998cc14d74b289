/**
 * The version this firmware is built as: what a terminal without update slots reports in its `boot`
 * event, and the version slot 0 holds before the first update (docs/update.md). Raise it with every
 * release; the anti-rollback floor refuses an image whose version is lower than the running one.
 */
export const FIRMWARE_VERSION = "1.0.0";
