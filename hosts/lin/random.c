/*
 * Random.fill of the Linux terminal: the kernel's CSPRNG (getrandom), under the same native name as the
 * ESP32's esp_fill_random binding, so hosts/esp32/platform.ts's HardwareRandom runs unchanged.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "xsmc.h"

#define RANDOM_FILL_BYTES_MAX 4096

void xs_xspos_random_fill(xsMachine *the)
{
	void *bytes;
	xsUnsignedValue length;
	size_t filled = 0;

	xsmcGetBufferWritable(xsArg(0), &bytes, &length);
	if (length > RANDOM_FILL_BYTES_MAX)
		xsRangeError("random: at most %d bytes per call", RANDOM_FILL_BYTES_MAX);
	/* Nothing allocates in XS while the pointer is held. */
	while (filled < length) {
		ssize_t got = getrandom((uint8_t *)bytes + filled, length - filled, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			xsUnknownError("random: getrandom failed: %s", strerror(errno));
		}
		filled += (size_t)got;
	}
}
