/*
 * The Linux terminal's NVS: one file per (namespace, key) under a directory given at start, written
 * whole and durably (temporary file, fsync, rename, fsync of the directory), so a kill leaves the old or
 * the new value, never a mix. preference.ts encodes the values; names follow ESP-IDF NVS (1 to 15
 * characters), values are at most 4000 bytes (an NVS blob).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xsmc.h"
#include "mc.xs.h"

#define NVS_NAME_BYTES_MAX 15
#define NVS_VALUE_BYTES_MAX 4001
#define NVS_KEYS_MAX 64

static char gRoot[PATH_MAX - 64] = "";

static void checkName(xsMachine *the, const char *name)
{
	size_t length = strlen(name), i;
	if ((length == 0) || (length > NVS_NAME_BYTES_MAX))
		xsRangeError("nvs: name must be 1 to %d characters", NVS_NAME_BYTES_MAX);
	for (i = 0; i < length; i++) {
		char c = name[i];
		if (!(((c >= 'a') && (c <= 'z')) || ((c >= 'A') && (c <= 'Z')) || ((c >= '0') && (c <= '9')) || (c == '-') || (c == '_')))
			xsRangeError("nvs: name has a character other than letters, digits, - and _");
	}
}

/* root/domain (and root/domain/key), the names checked first. */
static void namespacePath(xsMachine *the, char *path, size_t size, int withKey)
{
	char domain[NVS_NAME_BYTES_MAX + 1], key[NVS_NAME_BYTES_MAX + 1];
	if (gRoot[0] == 0)
		xsUnknownError("nvs: not opened");
	checkName(the, xsmcToString(xsArg(0)));
	strcpy(domain, xsmcToString(xsArg(0)));
	if (withKey) {
		checkName(the, xsmcToString(xsArg(1)));
		strcpy(key, xsmcToString(xsArg(1)));
		snprintf(path, size, "%s/%s/%s", gRoot, domain, key);
	}
	else
		snprintf(path, size, "%s/%s", gRoot, domain);
}

static void syncDirectory(xsMachine *the, const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		xsUnknownError("nvs: cannot open %s: %s", path, strerror(errno));
	if (fsync(fd) != 0) {
		close(fd);
		xsUnknownError("nvs: fsync %s failed: %s", path, strerror(errno));
	}
	close(fd);
}

/* open(directory): every later call works under it; created when missing. */
void xs_xspos_nvs_open(xsMachine *the)
{
	const char *root = xsmcToString(xsArg(0));
	if ((strlen(root) == 0) || (strlen(root) >= sizeof(gRoot)))
		xsRangeError("nvs: directory path must be 1 to %d characters", (int)sizeof(gRoot) - 1);
	if ((mkdir(root, 0700) != 0) && (errno != EEXIST))
		xsUnknownError("nvs: cannot create %s: %s", root, strerror(errno));
	strcpy(gRoot, root);
}

/* read(domain, key) → ArrayBuffer | undefined */
void xs_xspos_nvs_read(xsMachine *the)
{
	char path[PATH_MAX];
	unsigned char bytes[NVS_VALUE_BYTES_MAX + 1];
	ssize_t length;
	int fd;

	namespacePath(the, path, sizeof(path), 1);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return;
		xsUnknownError("nvs: cannot open %s: %s", path, strerror(errno));
	}
	length = read(fd, bytes, sizeof(bytes));
	close(fd);
	if ((length < 0) || (length > NVS_VALUE_BYTES_MAX))
		xsUnknownError("nvs: %s is unreadable or longer than %d bytes", path, NVS_VALUE_BYTES_MAX);
	xsmcSetArrayBuffer(xsResult, bytes, (xsUnsignedValue)length);
	memset(bytes, 0, sizeof(bytes));
}

/* write(domain, key, bytes): durable before it returns. */
void xs_xspos_nvs_write(xsMachine *the)
{
	char directory[PATH_MAX], path[PATH_MAX], temporary[PATH_MAX + 8];
	unsigned char bytes[NVS_VALUE_BYTES_MAX];
	void *source;
	xsUnsignedValue length;
	ssize_t written;
	int fd;

	namespacePath(the, directory, sizeof(directory), 0);
	namespacePath(the, path, sizeof(path), 1);
	snprintf(temporary, sizeof(temporary), "%s.tmp", path);
	xsmcGetBufferReadable(xsArg(2), &source, &length);
	if (length > NVS_VALUE_BYTES_MAX)
		xsRangeError("nvs: value longer than %d bytes", NVS_VALUE_BYTES_MAX);
	memcpy(bytes, source, length);
	if ((mkdir(directory, 0700) != 0) && (errno != EEXIST))
		xsUnknownError("nvs: cannot create %s: %s", directory, strerror(errno));
	fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		xsUnknownError("nvs: cannot create %s: %s", temporary, strerror(errno));
	written = write(fd, bytes, length);
	memset(bytes, 0, sizeof(bytes));
	if ((written != (ssize_t)length) || (fsync(fd) != 0)) {
		close(fd);
		xsUnknownError("nvs: cannot write %s", temporary);
	}
	close(fd);
	if (rename(temporary, path) != 0)
		xsUnknownError("nvs: cannot rename %s: %s", temporary, strerror(errno));
	syncDirectory(the, directory);
}

void xs_xspos_nvs_delete(xsMachine *the)
{
	char directory[PATH_MAX], path[PATH_MAX];
	namespacePath(the, directory, sizeof(directory), 0);
	namespacePath(the, path, sizeof(path), 1);
	if (unlink(path) == 0)
		syncDirectory(the, directory);
	else if (errno != ENOENT)
		xsUnknownError("nvs: cannot delete %s: %s", path, strerror(errno));
}

/* keys(domain) → string[] */
void xs_xspos_nvs_keys(xsMachine *the)
{
	char directory[PATH_MAX];
	DIR *dir;
	struct dirent *entry;
	int count = 0;

	namespacePath(the, directory, sizeof(directory), 0);
	xsmcVars(1);
	xsResult = xsNewArray(0);
	dir = opendir(directory);
	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		size_t length = strlen(entry->d_name);
		if ((entry->d_name[0] == '.') || (length > NVS_NAME_BYTES_MAX) || (strchr(entry->d_name, '.') != NULL))
			continue;
		if (++count > NVS_KEYS_MAX)
			break;
		xsmcSetString(xsVar(0), entry->d_name);
		xsCall1(xsResult, xsID_push, xsVar(0));
	}
	closedir(dir);
}
