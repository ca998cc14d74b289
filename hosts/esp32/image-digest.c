/*
 * SHA-256 of a firmware image over mbedtls (image-digest.ts), for the updater's
 * read-back of the inactive slot (modules/update/updater.ts, `imageDigest`).
 * On the ESP32 mbedtls runs SHA-256 on the hardware accelerator: a 1.9 MB
 * image in TypeScript would take tens of seconds of XS compute.
 *
 * mbedtls 2.28 spells the calls *_ret (the plain names are deprecated and
 * return void); 3.x has only the plain ones, returning int. Mbed TLS 4 keeps
 * SHA-256 behind PSA only: there (or with XSPOS_NO_NATIVE_DIGEST) this file
 * builds without it, `xs_xspos_sha256_available` answers false and the
 * updater keeps the TypeScript digest of modules/crypto.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xsmc.h"
#include "xsHost.h"

#if !defined(XSPOS_NO_NATIVE_DIGEST) && defined(__has_include)
#if __has_include("mbedtls/sha256.h")
#include "mbedtls/version.h"
#include "mbedtls/sha256.h"
#include "mbedtls/platform_util.h"
#if (MBEDTLS_VERSION_MAJOR < 4) && defined(MBEDTLS_SHA256_C)
#define XSPOS_NATIVE_DIGEST 1
#endif
#endif
#endif

#ifndef XSPOS_NATIVE_DIGEST
#define XSPOS_NATIVE_DIGEST 0
#endif

#define SHA256_BYTES 32

/* Whether this build has the native digest: read once by the host's composition root. */
void xs_xspos_sha256_available(xsMachine *the)
{
	xsmcSetBoolean(xsResult, XSPOS_NATIVE_DIGEST);
}

#if XSPOS_NATIVE_DIGEST

#if MBEDTLS_VERSION_MAJOR >= 3
#define SHA256_STARTS mbedtls_sha256_starts
#define SHA256_UPDATE mbedtls_sha256_update
#define SHA256_FINISH mbedtls_sha256_finish
#else
#define SHA256_STARTS mbedtls_sha256_starts_ret
#define SHA256_UPDATE mbedtls_sha256_update_ret
#define SHA256_FINISH mbedtls_sha256_finish_ret
#endif

typedef struct {
	mbedtls_sha256_context context;
	uint8_t finished;
} ImageDigest;

static void imageDigestFree(ImageDigest *digest)
{
	if (digest == NULL)
		return;
	mbedtls_sha256_free(&digest->context);
	mbedtls_platform_zeroize(digest, sizeof(ImageDigest));
	free(digest);
}

void xs_xspos_sha256_destructor(void *data)
{
	imageDigestFree((ImageDigest *)data);
}

/* new NativeSha256() */
void xs_xspos_sha256(xsMachine *the)
{
	ImageDigest *digest = calloc(1, sizeof(ImageDigest));
	if (digest == NULL)
		xsUnknownError("no memory for the digest");
	mbedtls_sha256_init(&digest->context);
	if (SHA256_STARTS(&digest->context, 0) != 0) {
		imageDigestFree(digest);
		xsUnknownError("sha256 start failed");
	}
	xsmcSetHostData(xsThis, digest);
}

/* update(bytes): the whole view. mbedtls does not allocate, so the XS buffer cannot move under it. */
void xs_xspos_sha256_update(xsMachine *the)
{
	ImageDigest *digest = xsmcGetHostData(xsThis);
	void *buffer;
	xsUnsignedValue length;

	if (digest == NULL)
		xsUnknownError("digest is closed");
	if (digest->finished)
		xsUnknownError("sha256: update after digest");
	xsmcGetBufferReadable(xsArg(0), &buffer, &length);
	if (SHA256_UPDATE(&digest->context, (const unsigned char *)buffer, length) != 0)
		xsUnknownError("sha256 update failed");
}

/* digest(): the 32 bytes, as a new ArrayBuffer; the digest is then finished. */
void xs_xspos_sha256_digest(xsMachine *the)
{
	uint8_t out[SHA256_BYTES];
	ImageDigest *digest = xsmcGetHostData(xsThis);

	if (digest == NULL)
		xsUnknownError("digest is closed");
	if (digest->finished)
		xsUnknownError("sha256: digest twice");
	if (SHA256_FINISH(&digest->context, out) != 0)
		xsUnknownError("sha256 finish failed");
	digest->finished = 1;
	xsmcSetArrayBuffer(xsResult, out, SHA256_BYTES);
}

#else /* no mbedtls SHA-256 API: the natives exist (the TS class names them) but are never reached */

void xs_xspos_sha256_destructor(void *data)
{
	(void)data;
}

static void digestUnavailable(xsMachine *the)
{
	xsUnknownError("no native SHA-256 in this build: the updater uses the TypeScript digest");
}

void xs_xspos_sha256(xsMachine *the)
{
	digestUnavailable(the);
}

void xs_xspos_sha256_update(xsMachine *the)
{
	digestUnavailable(the);
}

void xs_xspos_sha256_digest(xsMachine *the)
{
	digestUnavailable(the);
}

#endif
