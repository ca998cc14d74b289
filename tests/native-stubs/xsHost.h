/* Stand-in for Moddable's xs/platforms/esp/xsHost.h: the message queue an ISR posts to (see esp-idf-stubs.h). */
#ifndef XSPOS_XSHOST_STUB_H
#define XSPOS_XSHOST_STUB_H

#include <stdint.h>
#include "xs.h"

typedef void (*modMessageDeliver)(void *the, void *refcon, uint8_t *message, uint16_t messageLength);
int modMessagePostToMachine(xsMachine *the, uint8_t *message, uint16_t messageLength, modMessageDeliver callback, void *refcon);
int modMessagePostToMachineFromISR(xsMachine *the, modMessageDeliver callback, void *refcon);

#endif
