/*
 * A NOR flash partition in a file, for the Linux terminal (file-flash.ts): erase sets a whole sector to
 * 0xFF, a program only clears bits (stored = old AND new) and moves whole 32-bit words as the ESP32's
 * SPI flash does (bytes of a word outside the range are programmed as 0xFF, which leaves them as they
 * were). Every erase and program is on the disk (fdatasync) before it returns: the journal's promise
 * that an armed record survives a power cut rests on it.
 *
 * Power cuts on purpose (the kill soak): with `cutAtOperation` k > 0, the k-th erase or program of this
 * process is cut inside: half of its words (or half of the sector) reach the file, it is synced, and the
 * process kills itself with SIGKILL, as a power loss in the middle of the operation would leave it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xsmc.h"

#define FLASH_WORD_BYTES 4
#define FLASH_SECTOR_BYTES_MAX 65536
#define FLASH_BYTES_MAX (64 * 1024 * 1024)
#define FLASH_PATH_BYTES_MAX 4096

typedef struct {
	int fd;
	uint32_t byteLength;
	uint32_t blockSize;
	uint32_t operations;
	uint32_t cutAtOperation;
} FileFlash;

void xs_xspos_file_flash_destructor(void *data)
{
	FileFlash *flash = data;
	if (flash == NULL)
		return;
	if (flash->fd >= 0)
		close(flash->fd);
	free(flash);
}

static FileFlash *fileFlash(xsMachine *the)
{
	FileFlash *flash = xsmcGetHostData(xsThis);
	if ((flash == NULL) || (flash->fd < 0))
		xsUnknownError("flash: closed");
	return flash;
}

static void writeFully(xsMachine *the, FileFlash *flash, const uint8_t *bytes, size_t length, off_t offset)
{
	while (length > 0) {
		ssize_t written = pwrite(flash->fd, bytes, length, offset);
		if (written < 0) {
			if (errno == EINTR)
				continue;
			xsUnknownError("flash: write at %ld failed: %s", (long)offset, strerror(errno));
		}
		bytes += written;
		length -= (size_t)written;
		offset += written;
	}
}

static void readFully(xsMachine *the, FileFlash *flash, uint8_t *bytes, size_t length, off_t offset)
{
	while (length > 0) {
		ssize_t got = pread(flash->fd, bytes, length, offset);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			xsUnknownError("flash: read at %ld failed: %s", (long)offset, strerror(errno));
		}
		if (got == 0)
			xsUnknownError("flash: file shorter than the partition at %ld", (long)offset);
		bytes += got;
		length -= (size_t)got;
		offset += got;
	}
}

static void syncData(xsMachine *the, FileFlash *flash)
{
	if (fdatasync(flash->fd) != 0)
		xsUnknownError("flash: fdatasync failed: %s", strerror(errno));
}

/* Counts erases and programs; true when this one is the operation to cut. */
static int cutHere(FileFlash *flash)
{
	flash->operations++;
	return (flash->cutAtOperation != 0) && (flash->operations == flash->cutAtOperation);
}

static void powerCut(void)
{
	raise(SIGKILL);
	_exit(137);
}

/* new FileFlash(path, byteLength, blockSize, cutAtOperation): opens the file, creating it erased (0xFF) when missing. */
void xs_xspos_file_flash(xsMachine *the)
{
	FileFlash *flash;
	const char *path = xsmcToString(xsArg(0));
	xsIntegerValue byteLength = xsmcToInteger(xsArg(1));
	xsIntegerValue blockSize = xsmcToInteger(xsArg(2));
	xsIntegerValue cutAt = xsmcToInteger(xsArg(3));
	char pathCopy[FLASH_PATH_BYTES_MAX];
	struct stat status;

	if ((blockSize < FLASH_WORD_BYTES) || (blockSize > FLASH_SECTOR_BYTES_MAX) || (blockSize % FLASH_WORD_BYTES))
		xsRangeError("flash: bad sector size %d", (int)blockSize);
	if ((byteLength < blockSize) || (byteLength > FLASH_BYTES_MAX) || (byteLength % blockSize))
		xsRangeError("flash: partition of %d bytes is not whole sectors", (int)byteLength);
	if (cutAt < 0)
		xsRangeError("flash: cutAtOperation must be 0 or more");
	if (strlen(path) >= sizeof(pathCopy))
		xsRangeError("flash: path too long");
	strcpy(pathCopy, path);
	flash = calloc(1, sizeof(FileFlash));
	if (flash == NULL)
		xsUnknownError("flash: no memory");
	flash->fd = -1;
	xsmcSetHostData(xsThis, flash);
	flash->byteLength = (uint32_t)byteLength;
	flash->blockSize = (uint32_t)blockSize;
	flash->cutAtOperation = (uint32_t)cutAt;
	flash->fd = open(pathCopy, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (flash->fd < 0)
		xsUnknownError("flash: cannot open %s: %s", pathCopy, strerror(errno));
	if (fstat(flash->fd, &status) != 0)
		xsUnknownError("flash: cannot stat %s: %s", pathCopy, strerror(errno));
	if (status.st_size == 0) {
		/* A new chip comes erased. */
		uint8_t *erased = malloc(flash->blockSize);
		uint32_t sector;
		if (erased == NULL)
			xsUnknownError("flash: no memory");
		memset(erased, 0xFF, flash->blockSize);
		for (sector = 0; sector < flash->byteLength / flash->blockSize; sector++)
			writeFully(the, flash, erased, flash->blockSize, (off_t)sector * flash->blockSize);
		free(erased);
		syncData(the, flash);
	}
	else if (status.st_size != byteLength)
		xsUnknownError("flash: %s is %ld bytes, the partition %d", pathCopy, (long)status.st_size, (int)byteLength);
}

void xs_xspos_file_flash_erase(xsMachine *the)
{
	FileFlash *flash = fileFlash(the);
	xsIntegerValue sector = xsmcToInteger(xsArg(0));
	static uint8_t erased[FLASH_SECTOR_BYTES_MAX];
	int cut;

	if ((sector < 0) || ((uint32_t)sector >= flash->byteLength / flash->blockSize))
		xsRangeError("flash: no sector %d", (int)sector);
	memset(erased, 0xFF, flash->blockSize);
	cut = cutHere(flash);
	writeFully(the, flash, erased, cut ? flash->blockSize / 2 : flash->blockSize, (off_t)sector * flash->blockSize);
	syncData(the, flash);
	if (cut)
		powerCut();
}

/* read(offset, length) → ArrayBuffer */
void xs_xspos_file_flash_read(xsMachine *the)
{
	FileFlash *flash = fileFlash(the);
	xsIntegerValue offset = xsmcToInteger(xsArg(0));
	xsIntegerValue length = xsmcToInteger(xsArg(1));
	void *data;

	if ((offset < 0) || (length < 0) || ((uint32_t)offset + (uint32_t)length > flash->byteLength))
		xsRangeError("flash: read out of the partition");
	xsmcSetArrayBuffer(xsResult, NULL, length);
	/* Nothing allocates in XS between taking the pointer and the read. */
	data = xsmcToArrayBuffer(xsResult);
	readFully(the, flash, data, (size_t)length, offset);
}

/* write(offset, length, bytes): programs whole words, each stored byte becoming old & new; at most one sector's worth. */
void xs_xspos_file_flash_write(xsMachine *the)
{
	/* Single-threaded: one program at a time, no allocation to leak when a check throws. */
	static uint8_t span[FLASH_SECTOR_BYTES_MAX + 2 * FLASH_WORD_BYTES];
	static uint8_t old[FLASH_SECTOR_BYTES_MAX + 2 * FLASH_WORD_BYTES];
	FileFlash *flash = fileFlash(the);
	xsIntegerValue offset = xsmcToInteger(xsArg(0));
	xsIntegerValue length = xsmcToInteger(xsArg(1));
	void *source;
	xsUnsignedValue sourceLength;
	uint32_t first, end, words, i;
	int cut;

	if ((offset < 0) || (length < 0) || ((uint32_t)offset + (uint32_t)length > flash->byteLength))
		xsRangeError("flash: write out of the partition");
	if ((uint32_t)length > flash->blockSize)
		xsRangeError("flash: a program is at most one sector (%d bytes)", (int)flash->blockSize);
	if (length == 0)
		return;
	first = (uint32_t)offset & ~(uint32_t)(FLASH_WORD_BYTES - 1);
	end = ((uint32_t)offset + (uint32_t)length + FLASH_WORD_BYTES - 1) & ~(uint32_t)(FLASH_WORD_BYTES - 1);
	readFully(the, flash, old, end - first, first);
	memset(span, 0xFF, end - first);
	/* Nothing allocates in XS between taking the pointer and the copy. */
	xsmcGetBufferReadable(xsArg(2), &source, &sourceLength);
	if ((xsUnsignedValue)length > sourceLength)
		xsRangeError("flash: length beyond the bytes given");
	memcpy(span + ((uint32_t)offset - first), source, (size_t)length);
	for (i = 0; i < end - first; i++)
		span[i] &= old[i];
	words = (end - first) / FLASH_WORD_BYTES;
	cut = cutHere(flash);
	writeFully(the, flash, span, (cut ? words / 2 : words) * FLASH_WORD_BYTES, first);
	syncData(the, flash);
	if (cut)
		powerCut();
}

/* cutAfter(k): cut the power inside the k-th erase or program from now (a scenario's powerCut atFlashOp). */
void xs_xspos_file_flash_cut_after(xsMachine *the)
{
	FileFlash *flash = fileFlash(the);
	xsIntegerValue count = xsmcToInteger(xsArg(0));
	if ((count < 1) || (count > 1000000))
		xsRangeError("flash: cut after 1 to 1000000 operations");
	flash->cutAtOperation = flash->operations + (uint32_t)count;
}

/* The erases and programs done by this process (the soak draws its cut point from this range). */
void xs_xspos_file_flash_get_operations(xsMachine *the)
{
	xsmcSetInteger(xsResult, fileFlash(the)->operations);
}
