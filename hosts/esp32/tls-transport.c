/*
 * A non-blocking TCP + TLS client tls over lwIP and ESP-IDF's mbedtls (on
 * the Linux terminal: POSIX sockets and Debian's mbedtls, the one #ifdef
 * below), driven by tls-transport.ts: nothing here blocks or waits. JS calls poll()
 * from a timer to advance connect and handshake, read()/write() move what the
 * stack has ready, and every timeout is enforced in JS by closing the tls.
 *
 * XS-in-C rules: certificates and keys are copied out of JS buffers into C
 * memory before anything can allocate in XS, parsed from the copy, and the
 * copy is zeroized; key material never stays in a C buffer longer than the
 * parse. The server must chain to a pinned CA (VERIFY_REQUIRED, hostname
 * checked); a client certificate and key are optional. Only AEAD suites are
 * offered: TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305, and the TLS 1.3
 * suites where mbedtls has TLS 1.3 (the host accepts nothing else,
 * tools/host/server.ts TLS_CIPHERS).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xsmc.h"
#ifdef ESP_PLATFORM
#include "xsHost.h"
#include "lwip/sockets.h"
#else
/* The Linux terminal (hosts/lin): the same calls on POSIX sockets, over Debian's mbedtls. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>
#endif
#include "mbedtls/version.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

/* Socket states, mirrored by TLS_STATE in tls-transport.ts. */
#define TLS_STATE_IDLE 0
#define TLS_STATE_CONNECTING 1
#define TLS_STATE_HANDSHAKING 2
#define TLS_STATE_OPEN 3
#define TLS_STATE_REFUSED -1
#define TLS_STATE_HANDSHAKE_FAILED -2
#define TLS_STATE_RESET -3
#define TLS_STATE_CLOSED -4

#define TLS_CERTIFICATE_BYTES_MAX 8192
#define TLS_SERVER_NAME_BYTES_MAX 253

/* Zero-terminated, static: mbedtls keeps the pointer. Preference order: AES-GCM first (hardware AES on the ESP32). */
static const int tlsCiphersuites[] = {
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
#endif
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	0,
};

typedef struct {
	int fd;
	int state;
	int secure;
	int lastError;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt clientCertificate;
	mbedtls_pk_context clientKey;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	char serverName[TLS_SERVER_NAME_BYTES_MAX + 1];
} TlsSocket;

static void tlsRelease(TlsSocket *tls)
{
	if (tls->fd >= 0) {
		close(tls->fd);
		tls->fd = -1;
	}
	mbedtls_ssl_free(&tls->ssl);
	mbedtls_ssl_config_free(&tls->conf);
	mbedtls_x509_crt_free(&tls->ca);
	mbedtls_x509_crt_free(&tls->clientCertificate);
	mbedtls_pk_free(&tls->clientKey);
	mbedtls_ctr_drbg_free(&tls->drbg);
	mbedtls_entropy_free(&tls->entropy);
}

void xs_xspos_tls_destructor(void *data)
{
	TlsSocket *tls = data;
	if (tls == NULL)
		return;
	tlsRelease(tls);
	mbedtls_platform_zeroize(tls, sizeof(TlsSocket));
	free(tls);
}

void xs_xspos_tls(xsMachine *the)
{
	TlsSocket *tls = calloc(1, sizeof(TlsSocket));
	if (tls == NULL)
		xsUnknownError("tls: no memory");
	tls->fd = -1;
	tls->state = TLS_STATE_IDLE;
	mbedtls_ssl_init(&tls->ssl);
	mbedtls_ssl_config_init(&tls->conf);
	mbedtls_x509_crt_init(&tls->ca);
	mbedtls_x509_crt_init(&tls->clientCertificate);
	mbedtls_pk_init(&tls->clientKey);
	mbedtls_entropy_init(&tls->entropy);
	mbedtls_ctr_drbg_init(&tls->drbg);
	xsmcSetHostData(xsThis, tls);
}

static TlsSocket *tlsSocket(xsMachine *the)
{
	TlsSocket *tls = xsmcGetHostData(xsThis);
	if (tls == NULL)
		xsUnknownError("tls: tls is gone");
	return tls;
}

/* Copies a JS buffer into malloc'd C memory, NUL-terminated (PEM parsing needs it). Caller zeroizes and frees. */
static uint8_t *tlsCopyArgument(xsMachine *the, int index, size_t *length)
{
	void *source;
	xsUnsignedValue sourceLength;
	uint8_t *copy;

	xsmcGetBufferReadable(xsArg(index), &source, &sourceLength);
	if ((sourceLength == 0) || (sourceLength > TLS_CERTIFICATE_BYTES_MAX))
		xsRangeError("tls: certificate or key must be 1 to 8192 bytes");
	copy = malloc(sourceLength + 1);
	if (copy == NULL)
		xsUnknownError("tls: no memory");
	memcpy(copy, source, sourceLength);
	copy[sourceLength] = 0;
	/* PEM is parsed with its terminating NUL, DER without. */
	*length = (copy[0] == '-') ? sourceLength + 1 : sourceLength;
	return copy;
}

static void tlsFreeCopy(uint8_t *copy, size_t length)
{
	mbedtls_platform_zeroize(copy, length);
	free(copy);
}

/* addCa(certificate): one pinned CA, PEM or DER. */
void xs_xspos_tls_add_ca(xsMachine *the)
{
	TlsSocket *tls = tlsSocket(the);
	size_t length;
	uint8_t *copy = tlsCopyArgument(the, 0, &length);
	int status = mbedtls_x509_crt_parse(&tls->ca, copy, length);
	tlsFreeCopy(copy, length);
	if (status != 0)
		xsUnknownError("tls: CA certificate does not parse");
}

/* setClientCertificate(certificate, key): for acquirers that require mutual TLS. */
void xs_xspos_tls_set_client_certificate(xsMachine *the)
{
	TlsSocket *tls = tlsSocket(the);
	size_t certificateLength, keyLength;
	uint8_t *certificate = tlsCopyArgument(the, 0, &certificateLength);
	uint8_t *key;
	int status;

	status = mbedtls_x509_crt_parse(&tls->clientCertificate, certificate, certificateLength);
	tlsFreeCopy(certificate, certificateLength);
	if (status != 0)
		xsUnknownError("tls: client certificate does not parse");
	key = tlsCopyArgument(the, 1, &keyLength);
#if MBEDTLS_VERSION_MAJOR >= 3
	status = mbedtls_pk_parse_key(&tls->clientKey, key, keyLength, NULL, 0, mbedtls_ctr_drbg_random, &tls->drbg);
#else
	status = mbedtls_pk_parse_key(&tls->clientKey, key, keyLength, NULL, 0);
#endif
	tlsFreeCopy(key, keyLength);
	if (status != 0)
		xsUnknownError("tls: client key does not parse");
}

static int tlsSend(void *context, const unsigned char *bytes, size_t length)
{
	int fd = *(int *)context;
	int sent = send(fd, bytes, length, 0);
	if (sent >= 0)
		return sent;
	if ((errno == EAGAIN) || (errno == EWOULDBLOCK))
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int tlsReceive(void *context, unsigned char *bytes, size_t length)
{
	int fd = *(int *)context;
	int received = recv(fd, bytes, length, 0);
	if (received >= 0)
		return received;
	if ((errno == EAGAIN) || (errno == EWOULDBLOCK))
		return MBEDTLS_ERR_SSL_WANT_READ;
	return MBEDTLS_ERR_NET_RECV_FAILED;
}

static void tlsFail(TlsSocket *tls, int state, int error)
{
	tls->state = state;
	tls->lastError = error;
	if (tls->fd >= 0) {
		close(tls->fd);
		tls->fd = -1;
	}
}

static int tlsConfigure(TlsSocket *tls)
{
	static const char personalization[] = "xspos-tls";
	int status = mbedtls_ctr_drbg_seed(&tls->drbg, mbedtls_entropy_func, &tls->entropy,
		(const unsigned char *)personalization, sizeof(personalization) - 1);
	if (status == 0)
		status = mbedtls_ssl_config_defaults(&tls->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (status != 0)
		return status;
#if MBEDTLS_VERSION_MAJOR >= 3
	mbedtls_ssl_conf_min_tls_version(&tls->conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
	mbedtls_ssl_conf_min_version(&tls->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
	mbedtls_ssl_conf_ciphersuites(&tls->conf, tlsCiphersuites);
	mbedtls_ssl_conf_authmode(&tls->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&tls->conf, &tls->ca, NULL);
	mbedtls_ssl_conf_rng(&tls->conf, mbedtls_ctr_drbg_random, &tls->drbg);
	if (mbedtls_pk_get_type(&tls->clientKey) != MBEDTLS_PK_NONE) {
		status = mbedtls_ssl_conf_own_cert(&tls->conf, &tls->clientCertificate, &tls->clientKey);
		if (status != 0)
			return status;
	}
	status = mbedtls_ssl_setup(&tls->ssl, &tls->conf);
	if (status == 0)
		status = mbedtls_ssl_set_hostname(&tls->ssl, tls->serverName);
	if (status == 0)
		mbedtls_ssl_set_bio(&tls->ssl, &tls->fd, tlsSend, tlsReceive, NULL);
	return status;
}

/* connect(address, port, serverName | undefined): starts a non-blocking connect; no serverName = plain TCP. */
void xs_xspos_tls_connect(xsMachine *the)
{
	TlsSocket *tls = tlsSocket(the);
	struct sockaddr_in address;
	xsIntegerValue port = xsmcToInteger(xsArg(1));
	int status;

	if (tls->state != TLS_STATE_IDLE)
		xsUnknownError("tls: connect called twice");
	if ((port < 1) || (port > 65535))
		xsRangeError("tls: port must be 1 to 65535");
	memset(&address, 0, sizeof(address));
	address.sin_family = AF_INET;
	address.sin_port = htons((uint16_t)port);
	/* No DNS here: a lookup would block the XS task. The acquirer endpoint is configured as an IPv4 literal. */
	if (inet_pton(AF_INET, xsmcToString(xsArg(0)), &address.sin_addr) != 1)
		xsRangeError("tls: address must be an IPv4 literal");
	tls->secure = xsmcTest(xsArg(2));
	if (tls->secure) {
		xsUnsignedValue length;
		const char *name = xsmcToString(xsArg(2));
		length = (xsUnsignedValue)strlen(name);
		if ((length == 0) || (length > TLS_SERVER_NAME_BYTES_MAX))
			xsRangeError("tls: serverName must be 1 to 253 characters");
		memcpy(tls->serverName, name, length + 1);
		if (tls->ca.raw.len == 0)
			xsUnknownError("tls: no pinned CA");
		status = tlsConfigure(tls);
		if (status != 0) {
			tlsFail(tls, TLS_STATE_HANDSHAKE_FAILED, status);
			return;
		}
	}

	tls->fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	if (tls->fd < 0) {
		tlsFail(tls, TLS_STATE_REFUSED, errno);
		return;
	}
	fcntl(tls->fd, F_SETFL, fcntl(tls->fd, F_GETFL, 0) | O_NONBLOCK);
	status = connect(tls->fd, (struct sockaddr *)&address, sizeof(address));
	if ((status == 0) || (errno == EINPROGRESS))
		tls->state = TLS_STATE_CONNECTING;
	else
		tlsFail(tls, TLS_STATE_REFUSED, errno);
}

/* poll(): advances connect and handshake without waiting; returns the state. */
void xs_xspos_tls_poll(xsMachine *the)
{
	TlsSocket *tls = tlsSocket(the);

	if (tls->state == TLS_STATE_CONNECTING) {
		fd_set writable;
		struct timeval now = {0, 0};
		int error = 0;
		socklen_t errorLength = sizeof(error);

		FD_ZERO(&writable);
		FD_SET(tls->fd, &writable);
		if (select(tls->fd + 1, NULL, &writable, NULL, &now) > 0) {
			getsockopt(tls->fd, SOL_SOCKET, SO_ERROR, &error, &errorLength);
			if (error != 0)
				tlsFail(tls, TLS_STATE_REFUSED, error);
			else
				tls->state = tls->secure ? TLS_STATE_HANDSHAKING : TLS_STATE_OPEN;
		}
	}
	if (tls->state == TLS_STATE_HANDSHAKING) {
		int status = mbedtls_ssl_handshake(&tls->ssl);
		if (status == 0)
			tls->state = TLS_STATE_OPEN;
		else if ((status != MBEDTLS_ERR_SSL_WANT_READ) && (status != MBEDTLS_ERR_SSL_WANT_WRITE))
			tlsFail(tls, TLS_STATE_HANDSHAKE_FAILED, status);
	}
	xsmcSetInteger(xsResult, tls->state);
}

/* read(buffer): bytes read into buffer, 0 when none is ready, -1 once the connection is gone (poll() says how). */
void xs_xspos_tls_read(xsMachine *the)
{
	TlsSocket *tls = tlsSocket(the);
	void *buffer;
	xsUnsignedValue length;
	int received;

	if (tls->state != TLS_STATE_OPEN) {
		xsmcSetInteger(xsResult, -1);
		return;
	}
	/* Nothing between taking the pointer and the read allocates in XS. */
	xsmcGetBufferWritable(xsArg(0), &buffer, &length);
	if (tls->secure) {
		received = mbedtls_ssl_read(&tls->ssl, buffer, length);
		if ((received == MBEDTLS_ERR_SSL_WANT_READ) || (received == MBEDTLS_ERR_SSL_WANT_WRITE))
			received = 0;
		else if ((received == 0) || (received == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)) {
			tlsFail(tls, TLS_STATE_CLOSED, 0);
			received = -1;
		}
		else if (received < 0) {
			tlsFail(tls, TLS_STATE_RESET, received);
			received = -1;
		}
	}
	else {
		received = recv(tls->fd, buffer, length, 0);
		if ((received < 0) && ((errno == EAGAIN) || (errno == EWOULDBLOCK)))
			received = 0;
		else if (received == 0) {
			tlsFail(tls, TLS_STATE_CLOSED, 0);
			received = -1;
		}
		else if (received < 0) {
			tlsFail(tls, TLS_STATE_RESET, errno);
			received = -1;
		}
	}
	xsmcSetInteger(xsResult, received);
}

/* write(buffer, offset, length): bytes the stack accepted (0 = try again on the next poll), -1 once gone. */
void xs_xspos_tls_write(xsMachine *the)
{
	TlsSocket *tls = tlsSocket(the);
	xsIntegerValue offset = xsmcToInteger(xsArg(1));
	xsIntegerValue count = xsmcToInteger(xsArg(2));
	void *buffer;
	xsUnsignedValue length;
	int sent;

	if (tls->state != TLS_STATE_OPEN) {
		xsmcSetInteger(xsResult, -1);
		return;
	}
	xsmcGetBufferReadable(xsArg(0), &buffer, &length);
	if ((offset < 0) || (count < 0) || ((xsUnsignedValue)offset + (xsUnsignedValue)count > length))
		xsRangeError("tls: write range out of buffer");
	if (tls->secure) {
		sent = mbedtls_ssl_write(&tls->ssl, (const unsigned char *)buffer + offset, count);
		if ((sent == MBEDTLS_ERR_SSL_WANT_READ) || (sent == MBEDTLS_ERR_SSL_WANT_WRITE))
			sent = 0;
	}
	else {
		sent = send(tls->fd, (const uint8_t *)buffer + offset, count, 0);
		if ((sent < 0) && ((errno == EAGAIN) || (errno == EWOULDBLOCK)))
			sent = 0;
	}
	if (sent < 0) {
		tlsFail(tls, TLS_STATE_RESET, sent);
		sent = -1;
	}
	xsmcSetInteger(xsResult, sent);
}

/* The mbedtls or errno code of the last failure, for the log line (never key material). */
void xs_xspos_tls_get_lastError(xsMachine *the)
{
	xsmcSetInteger(xsResult, tlsSocket(the)->lastError);
}

void xs_xspos_tls_close(xsMachine *the)
{
	TlsSocket *tls = xsmcGetHostData(xsThis);
	if (tls == NULL)
		return;
	if (tls->state == TLS_STATE_OPEN && tls->secure)
		mbedtls_ssl_close_notify(&tls->ssl);
	tlsRelease(tls);
	tls->state = TLS_STATE_CLOSED;
}
