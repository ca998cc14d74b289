/* ESP-IDF <driver/gpio.h>: see esp-idf-stubs.h. */
#include "../esp-idf-stubs.h"
