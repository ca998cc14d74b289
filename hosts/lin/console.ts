/** Lines from stdin (stdin-lines.c): the Linux terminal's input, one JSON object a line. */
export function readLines(onLine: (line: string | undefined) => void): void {
  native("xs_xspos_stdin_start").call(undefined, onLine);
}
