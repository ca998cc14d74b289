/* ESP-IDF <esp_system.h>: see esp-idf-stubs.h. */
#include "esp-idf-stubs.h"
