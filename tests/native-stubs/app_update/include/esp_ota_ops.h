/* ESP-IDF <app_update/include/esp_ota_ops.h>: see esp-idf-stubs.h. */
#include "esp-idf-stubs.h"
