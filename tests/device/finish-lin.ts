/** On x-cli-lin the test app is a process: it exits 0 when every test passed, 1 otherwise (make device-test). */
import { exit } from "../../hosts/lin/process";

export function finish(failed: number): void {
  exit(failed === 0 ? 0 : 1);
}
