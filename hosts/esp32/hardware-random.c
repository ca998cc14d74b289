/*
 * Random.fill over the ESP32 hardware RNG (platform.ts HardwareRandom).
 * esp_fill_random writes straight into the caller's buffer: nothing between
 * taking the pointer and the fill can allocate in XS, so the pointer stays valid.
 */
#include <stddef.h>
#include <stdint.h>

#include "xsmc.h"
#include "xsHost.h"
#include "esp_random.h"

#define XSPOS_RANDOM_FILL_BYTES_MAX 4096

void xs_xspos_random_fill(xsMachine *the)
{
	void *bytes;
	xsUnsignedValue length;

	xsmcGetBufferWritable(xsArg(0), &bytes, &length);
	if (length > XSPOS_RANDOM_FILL_BYTES_MAX)
		xsRangeError("random fill: at most 4096 bytes per call");
	esp_fill_random(bytes, length);
}
