/* ESP-IDF <soc/gpio_reg.h>: see esp-idf-stubs.h. */
#include "../esp-idf-stubs.h"
