/* ESP-IDF <soc/soc.h>: see esp-idf-stubs.h. */
#include "../esp-idf-stubs.h"
