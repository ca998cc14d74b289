/** The Linux terminal's NVS directory (nvs-files.c): opened once at start, before anything reads a preference. */
export function openNvs(directory: string): void {
  native("xs_xspos_nvs_open").call(undefined, directory);
}
