/* ESP-IDF <esp_heap_caps.h>: see esp-idf-stubs.h. */
#include "esp-idf-stubs.h"
