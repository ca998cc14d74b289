/*
 * Magstripe strobe capture (see docs/card-readers.md, "Wiring assumptions"
 * and "Driver flows"): a GPIO ISR latches /DATA at each falling edge of /STROBE into a fixed
 * bit buffer (one byte per bit, 1 = /DATA low), between the falling and the
 * rising edge of /CLS (card present). When /CLS releases, the bits are handed
 * to JS once, through the machine's message queue, and wiped in C.
 *
 * IRAM safety: both handlers are IRAM_ATTR, read the GPIO input registers
 * directly and touch only internal DRAM. They keep running during a flash
 * erase only if the GPIO ISR service is installed with ESP_INTR_FLAG_IRAM,
 * which this module does when it opens first (main.ts opens it before any
 * other GPIO interrupt user); `iramSafe` reports whether that happened. When
 * it is false, flash operations mask the strobe interrupt and drop bits, so
 * the journal must not erase while `swipeInProgress` is true.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xsmc.h"
#include "xsHost.h"
#include "esp_attr.h"
#include "esp_err.h"
#include "esp_heap_caps.h"
#include "driver/gpio.h"
#include "soc/gpio_reg.h"
#include "soc/soc.h"

/* Same limit as MSR_BITS_MAX in modules/card/msr.ts. */
#define MSR_BITS_MAX 1024
#define MSR_GPIO_MAX 39

typedef struct {
	xsMachine *the;
	xsSlot onSwipe;
	uint8_t pinCardPresent;
	uint8_t pinStrobe;
	uint8_t pinData;
	uint8_t iramSafe;
	volatile uint8_t capturing;
	volatile uint8_t overflowed;
	volatile uint8_t delivering;
	volatile uint16_t count;
	uint8_t bits[MSR_BITS_MAX];
} MsrCapture;

static IRAM_ATTR uint32_t msrLevel(uint8_t pin)
{
	if (pin < 32)
		return (REG_READ(GPIO_IN_REG) >> pin) & 1;
	return (REG_READ(GPIO_IN1_REG) >> (pin - 32)) & 1;
}

static IRAM_ATTR void msrStrobeISR(void *refcon)
{
	MsrCapture *capture = refcon;
	if (!capture->capturing)
		return;
	if (capture->count >= MSR_BITS_MAX) {
		capture->overflowed = 1;
		return;
	}
	capture->bits[capture->count] = msrLevel(capture->pinData) ? 0 : 1;
	capture->count += 1;
}

static void msrDeliver(void *the, void *refcon, uint8_t *message, uint16_t messageLength);

static IRAM_ATTR void msrCardPresentISR(void *refcon)
{
	MsrCapture *capture = refcon;
	if (msrLevel(capture->pinCardPresent) == 0) {
		/* A new swipe replaces one that JS has not collected yet: its bits are stale. */
		if (capture->delivering)
			return;
		capture->count = 0;
		capture->overflowed = 0;
		capture->capturing = 1;
		return;
	}
	if (!capture->capturing)
		return;
	capture->capturing = 0;
	capture->delivering = 1;
	modMessagePostToMachineFromISR(capture->the, msrDeliver, capture);
}

/* Runs in the XS task: hands the bits to JS as a fresh ArrayBuffer, then wipes the C copy. */
static void msrDeliver(void *the, void *refcon, uint8_t *message, uint16_t messageLength)
{
	MsrCapture *capture = refcon;
	/* An overflowing swipe is not a card the reader can trust: hand over nothing decodable. */
	uint16_t count = capture->overflowed ? 0 : capture->count;

	xsBeginHost(the);
	xsmcVars(2);
	xsmcSetArrayBuffer(xsVar(0), capture->bits, count);
	memset(capture->bits, 0, MSR_BITS_MAX);
	capture->count = 0;
	capture->delivering = 0;
	xsmcSetInteger(xsVar(1), count);
	xsCallFunction2(capture->onSwipe, xsUndefined, xsVar(0), xsVar(1));
	xsEndHost(the);
}

static void msrRelease(MsrCapture *capture)
{
	if (capture == NULL)
		return;
	gpio_isr_handler_remove(capture->pinStrobe);
	gpio_isr_handler_remove(capture->pinCardPresent);
	memset(capture->bits, 0, MSR_BITS_MAX);
	heap_caps_free(capture);
}

void xs_xspos_msr_destructor(void *data)
{
	msrRelease((MsrCapture *)data);
}

static uint8_t msrPin(xsMachine *the, xsSlot *slot)
{
	xsIntegerValue pin = xsmcToInteger(*slot);
	if ((pin < 0) || (pin > MSR_GPIO_MAX))
		xsRangeError("msr: invalid GPIO");
	return (uint8_t)pin;
}

/* new NativeMsrCapture(cardPresentPin, strobePin, dataPin, onSwipe(bits: ArrayBuffer, count)) */
void xs_xspos_msr(xsMachine *the)
{
	uint8_t pinCardPresent = msrPin(the, &xsArg(0));
	uint8_t pinStrobe = msrPin(the, &xsArg(1));
	uint8_t pinData = msrPin(the, &xsArg(2));
	esp_err_t installed;
	gpio_config_t config;
	MsrCapture *capture;

	if (!xsmcIsInstanceOf(xsArg(3), xsFunctionPrototype))
		xsTypeError("msr: onSwipe must be a function");

	/* Internal DRAM: PSRAM and flash are unreachable while a flash operation runs. */
	capture = heap_caps_calloc(1, sizeof(MsrCapture), MALLOC_CAP_INTERNAL | MALLOC_CAP_8BIT);
	if (capture == NULL)
		xsUnknownError("msr: no memory");
	capture->the = the;
	capture->pinCardPresent = pinCardPresent;
	capture->pinStrobe = pinStrobe;
	capture->pinData = pinData;
	capture->onSwipe = xsArg(3);
	xsRemember(capture->onSwipe);

	memset(&config, 0, sizeof(config));
	config.mode = GPIO_MODE_INPUT;
	config.pull_up_en = GPIO_PULLUP_ENABLE;
	config.pull_down_en = GPIO_PULLDOWN_DISABLE;
	config.pin_bit_mask = 1ULL << pinData;
	config.intr_type = GPIO_INTR_DISABLE;
	gpio_config(&config);
	config.pin_bit_mask = 1ULL << pinStrobe;
	config.intr_type = GPIO_INTR_NEGEDGE;
	gpio_config(&config);
	config.pin_bit_mask = 1ULL << pinCardPresent;
	config.intr_type = GPIO_INTR_ANYEDGE;
	gpio_config(&config);

	installed = gpio_install_isr_service(ESP_INTR_FLAG_IRAM);
	if ((installed != ESP_OK) && (installed != ESP_ERR_INVALID_STATE)) {
		xsForget(capture->onSwipe);
		heap_caps_free(capture);
		xsUnknownError("msr: cannot install the GPIO ISR service");
	}
	capture->iramSafe = (installed == ESP_OK);
	if ((gpio_isr_handler_add(pinStrobe, msrStrobeISR, capture) != ESP_OK) ||
	    (gpio_isr_handler_add(pinCardPresent, msrCardPresentISR, capture) != ESP_OK)) {
		xsForget(capture->onSwipe);
		msrRelease(capture);
		xsUnknownError("msr: cannot attach the strobe and card-present interrupts");
	}
	xsmcSetHostData(xsThis, capture);
}

void xs_xspos_msr_close(xsMachine *the)
{
	MsrCapture *capture = xsmcGetHostData(xsThis);
	if (capture == NULL)
		return;
	xsmcSetHostData(xsThis, NULL);
	xsForget(capture->onSwipe);
	msrRelease(capture);
}

/* True from /CLS falling until JS has the bits: the window in which a flash erase would drop strobes. */
void xs_xspos_msr_get_swipeInProgress(xsMachine *the)
{
	MsrCapture *capture = xsmcGetHostData(xsThis);
	int busy = (capture != NULL) && (capture->capturing || capture->delivering || (msrLevel(capture->pinCardPresent) == 0));
	xsmcSetBoolean(xsResult, busy);
}

/* True while strobes can arrive (card in the slot): what a flash erase must not overlap. Bits already
 * captured and waiting for JS are safe in DRAM, and the XS task that collects them is the one erasing. */
void xs_xspos_msr_get_strobesExpected(xsMachine *the)
{
	MsrCapture *capture = xsmcGetHostData(xsThis);
	int expected = (capture != NULL) && (capture->capturing || (msrLevel(capture->pinCardPresent) == 0));
	xsmcSetBoolean(xsResult, expected);
}

void xs_xspos_msr_get_iramSafe(xsMachine *the)
{
	MsrCapture *capture = xsmcGetHostData(xsThis);
	xsmcSetBoolean(xsResult, (capture != NULL) && capture->iramSafe);
}
