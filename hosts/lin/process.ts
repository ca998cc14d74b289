/** The process of an x-cli-lin build (hosts/lin/xs-host.c): its arguments and its end. */

/** The command-line arguments after the program name (at most 64). */
export function argv(): string[] {
  return native("xs_xspos_lin_argv").call(undefined) as string[];
}

/** Leaves the main loop: the machine is deleted and the process exits with `status` (0..255). */
export function exit(status: number): void {
  native("xs_xspos_lin_exit").call(undefined, status);
}

export interface MachineMemory {
  readonly chunkBytes: number;
  readonly chunkBytesPeak: number;
  readonly chunkBytesMax: number;
  readonly heapSlots: number;
  readonly heapSlotsPeak: number;
  readonly heapSlotsMax: number;
}

/** Chunk bytes and heap slots live now (after a collection), their peaks since the previous call, and the creation sizes. */
export function memory(): MachineMemory {
  return native("xs_xspos_lin_memory").call(undefined) as MachineMemory;
}
