/*
 * DES and 3DES (EDE, 2- or 3-key) blocks over ESP-IDF's mbedtls, behind the
 * BlockCipher interface of modules/crypto/block-cipher.ts (block-cipher.ts).
 *
 * XS-in-C rules: the key and each input block are copied into C memory before
 * anything that may allocate in XS (which can move buffers), and every C copy
 * of key material is zeroized. The key schedule lives in malloc'd host data,
 * zeroized in close() and in the destructor.
 *
 * mbedtls 2.28 and 3.x keep mbedtls_des_* / mbedtls_des3_*. Mbed TLS 4
 * (ESP-IDF 6) drops the legacy DES API (and mbedtls/des.h): there this file
 * builds without it, `xs_xspos_des_available` answers false and the device
 * routes des/tdes to the TypeScript ciphers of modules/crypto
 * (cipher-route.ts, docs/device.md). Defining XSPOS_NO_NATIVE_DES forces
 * that route on any mbedtls.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xsmc.h"
#include "xsHost.h"

#if !defined(XSPOS_NO_NATIVE_DES) && defined(__has_include)
#if __has_include("mbedtls/des.h")
#include "mbedtls/version.h"
#include "mbedtls/des.h"
#include "mbedtls/platform_util.h"
#if (MBEDTLS_VERSION_MAJOR < 4) && defined(MBEDTLS_DES_C)
#define XSPOS_NATIVE_DES 1
#endif
#endif
#endif

#ifndef XSPOS_NATIVE_DES
#define XSPOS_NATIVE_DES 0
#endif

/* Whether this build has the native DES: read once by cipher-route.ts to pick the cipher provider. */
void xs_xspos_des_available(xsMachine *the)
{
	xsmcSetBoolean(xsResult, XSPOS_NATIVE_DES);
}

#if XSPOS_NATIVE_DES

#define DES_BLOCK_BYTES 8

typedef struct {
	uint8_t triple; /* 0 = single DES (8-byte key), 1 = 3DES EDE */
	mbedtls_des_context des_encrypt;
	mbedtls_des_context des_decrypt;
	mbedtls_des3_context des3_encrypt;
	mbedtls_des3_context des3_decrypt;
} DesCipher;

static void desCipherFree(DesCipher *cipher)
{
	if (cipher == NULL)
		return;
	mbedtls_des_free(&cipher->des_encrypt);
	mbedtls_des_free(&cipher->des_decrypt);
	mbedtls_des3_free(&cipher->des3_encrypt);
	mbedtls_des3_free(&cipher->des3_decrypt);
	mbedtls_platform_zeroize(cipher, sizeof(DesCipher));
	free(cipher);
}

void xs_xspos_des_destructor(void *data)
{
	desCipherFree((DesCipher *)data);
}

/* new NativeDesCipher(key): 8, 16 (K1 K2 K1) or 24 (K1 K2 K3) bytes. */
void xs_xspos_des(xsMachine *the)
{
	uint8_t key[24];
	void *source;
	xsUnsignedValue length;
	DesCipher *cipher;
	int status = 0;

	xsmcGetBufferReadable(xsArg(0), &source, &length);
	if ((length != 8) && (length != 16) && (length != 24))
		xsRangeError("des key must be 8, 16 or 24 bytes");
	memcpy(key, source, length);

	cipher = calloc(1, sizeof(DesCipher));
	if (cipher == NULL) {
		mbedtls_platform_zeroize(key, sizeof(key));
		xsUnknownError("no memory for the key schedule");
	}
	mbedtls_des_init(&cipher->des_encrypt);
	mbedtls_des_init(&cipher->des_decrypt);
	mbedtls_des3_init(&cipher->des3_encrypt);
	mbedtls_des3_init(&cipher->des3_decrypt);
	if (length == 8) {
		status |= mbedtls_des_setkey_enc(&cipher->des_encrypt, key);
		status |= mbedtls_des_setkey_dec(&cipher->des_decrypt, key);
	}
	else if (length == 16) {
		cipher->triple = 1;
		status |= mbedtls_des3_set2key_enc(&cipher->des3_encrypt, key);
		status |= mbedtls_des3_set2key_dec(&cipher->des3_decrypt, key);
	}
	else {
		cipher->triple = 1;
		status |= mbedtls_des3_set3key_enc(&cipher->des3_encrypt, key);
		status |= mbedtls_des3_set3key_dec(&cipher->des3_decrypt, key);
	}
	mbedtls_platform_zeroize(key, sizeof(key));
	if (status != 0) {
		desCipherFree(cipher);
		xsUnknownError("des key schedule failed");
	}
	xsmcSetHostData(xsThis, cipher);
}

void xs_xspos_des_close(xsMachine *the)
{
	DesCipher *cipher = xsmcGetHostData(xsThis);
	xsmcSetHostData(xsThis, NULL);
	desCipherFree(cipher);
}

/* (src, srcOffset, dst, dstOffset): one block; src and dst may be the same range. */
static void desCrypt(xsMachine *the, int encrypt)
{
	uint8_t input[DES_BLOCK_BYTES];
	uint8_t output[DES_BLOCK_BYTES];
	void *buffer;
	xsUnsignedValue length;
	xsIntegerValue sourceOffset = xsmcToInteger(xsArg(1));
	xsIntegerValue targetOffset = xsmcToInteger(xsArg(3));
	DesCipher *cipher = xsmcGetHostData(xsThis);
	int status;

	if (cipher == NULL)
		xsUnknownError("cipher is closed");
	xsmcGetBufferReadable(xsArg(0), &buffer, &length);
	if ((sourceOffset < 0) || ((xsUnsignedValue)sourceOffset + DES_BLOCK_BYTES > length))
		xsRangeError("source block out of range");
	memcpy(input, (uint8_t *)buffer + sourceOffset, DES_BLOCK_BYTES);

	if (cipher->triple)
		status = mbedtls_des3_crypt_ecb(encrypt ? &cipher->des3_encrypt : &cipher->des3_decrypt, input, output);
	else
		status = mbedtls_des_crypt_ecb(encrypt ? &cipher->des_encrypt : &cipher->des_decrypt, input, output);
	mbedtls_platform_zeroize(input, sizeof(input));
	if (status != 0) {
		mbedtls_platform_zeroize(output, sizeof(output));
		xsUnknownError("des block failed");
	}

	/* Take the target pointer only now: nothing below allocates before the copy. */
	xsmcGetBufferWritable(xsArg(2), &buffer, &length);
	if ((targetOffset < 0) || ((xsUnsignedValue)targetOffset + DES_BLOCK_BYTES > length)) {
		mbedtls_platform_zeroize(output, sizeof(output));
		xsRangeError("target block out of range");
	}
	memcpy((uint8_t *)buffer + targetOffset, output, DES_BLOCK_BYTES);
	mbedtls_platform_zeroize(output, sizeof(output));
}

void xs_xspos_des_encrypt(xsMachine *the)
{
	desCrypt(the, 1);
}

void xs_xspos_des_decrypt(xsMachine *the)
{
	desCrypt(the, 0);
}

#else /* no legacy DES API: the natives exist (the TS class names them) but are never reached */

void xs_xspos_des_destructor(void *data)
{
	(void)data;
}

static void desUnavailable(xsMachine *the)
{
	xsUnknownError("no native DES in this build: use the software cipher route");
}

void xs_xspos_des(xsMachine *the)
{
	desUnavailable(the);
}

void xs_xspos_des_close(xsMachine *the)
{
	desUnavailable(the);
}

void xs_xspos_des_encrypt(xsMachine *the)
{
	desUnavailable(the);
}

void xs_xspos_des_decrypt(xsMachine *the)
{
	desUnavailable(the);
}

#endif
