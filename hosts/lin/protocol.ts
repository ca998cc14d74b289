/**
 * What the Linux terminal and the tools that run it agree on (hosts/lin/main.ts on one side; the kill soak,
 * the smoke test and the simulator's native page on the other): the menu functions its `{"menu":…}` line
 * takes, and the exit status that asks to be started again. Pure data, so the Node tools import it too.
 */

/** The exit status of a restart after an update's activation or rollback (sysexits EX_TEMPFAIL): run the terminal again. */
export const EXIT_RESTART = 75;

/** The menu functions a `{"menu":…}` line may name. */
export const MENU = Object.freeze([
  "sale",
  "refund",
  "void",
  "balance",
  "settle",
  "signOn",
  "signOff",
  "echo",
  "pending",
  "networkCheck",
  "tmsCheck",
] as const);
