/* ESP-IDF <esp_attr.h>: see esp-idf-stubs.h. */
#include "esp-idf-stubs.h"
