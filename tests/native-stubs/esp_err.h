/* ESP-IDF <esp_err.h>: see esp-idf-stubs.h. */
#include "esp-idf-stubs.h"
