/* ESP-IDF <esp_random.h>: see esp-idf-stubs.h. */
#include "esp-idf-stubs.h"
