/*
 * Declarations of the ESP-IDF and Moddable-ESP32 symbols that the C files in hosts/esp32
 * use, so that `make native-check` can compile them on the build machine with
 * gcc -fsyntax-only. Signatures follow ESP-IDF v5 (driver/gpio.h,
 * esp_heap_caps.h, esp_random.h) and Moddable's xs/platforms/esp/xsHost.h.
 * Declarations only: nothing here is linked or run.
 */
#ifndef XSPOS_ESP_IDF_STUBS_H
#define XSPOS_ESP_IDF_STUBS_H

#include <stddef.h>
#include <stdint.h>

/* esp_attr.h */
#define IRAM_ATTR
#define DRAM_ATTR

/* esp_err.h */
typedef int esp_err_t;
#define ESP_OK 0
#define ESP_FAIL -1
#define ESP_ERR_INVALID_STATE 0x103

/* esp_intr_alloc.h */
#define ESP_INTR_FLAG_IRAM (1 << 10)

/* esp_heap_caps.h */
#define MALLOC_CAP_8BIT (1 << 2)
#define MALLOC_CAP_INTERNAL (1 << 11)
void *heap_caps_calloc(size_t n, size_t size, uint32_t caps);
void heap_caps_free(void *ptr);

/* esp_ota_ops.h, esp_partition.h (app_update, ESP-IDF v5) */
typedef struct esp_partition_t esp_partition_t;
typedef enum {
	ESP_OTA_IMG_NEW = 0x0,
	ESP_OTA_IMG_PENDING_VERIFY = 0x1,
	ESP_OTA_IMG_VALID = 0x2,
	ESP_OTA_IMG_INVALID = 0x3,
	ESP_OTA_IMG_ABORTED = 0x4,
	ESP_OTA_IMG_UNDEFINED = -1
} esp_ota_img_states_t;
const esp_partition_t *esp_ota_get_running_partition(void);
const esp_partition_t *esp_ota_get_next_update_partition(const esp_partition_t *start_from);
const esp_partition_t *esp_ota_get_last_invalid_partition(void);
esp_err_t esp_ota_get_state_partition(const esp_partition_t *partition, esp_ota_img_states_t *ota_state);
esp_err_t esp_ota_set_boot_partition(const esp_partition_t *partition);
esp_err_t esp_ota_mark_app_valid_cancel_rollback(void);
esp_err_t esp_ota_mark_app_invalid_rollback_and_reboot(void);
esp_err_t esp_ota_invalidate_inactive_ota_data_slot(void);

/* esp_system.h */
void esp_restart(void);

/* esp_random.h */
void esp_fill_random(void *buf, size_t len);

/* driver/gpio.h */
typedef int gpio_num_t;
typedef enum { GPIO_MODE_DISABLE = 0, GPIO_MODE_INPUT = 1, GPIO_MODE_OUTPUT = 2 } gpio_mode_t;
typedef enum { GPIO_PULLUP_DISABLE = 0, GPIO_PULLUP_ENABLE = 1 } gpio_pullup_t;
typedef enum { GPIO_PULLDOWN_DISABLE = 0, GPIO_PULLDOWN_ENABLE = 1 } gpio_pulldown_t;
typedef enum {
	GPIO_INTR_DISABLE = 0,
	GPIO_INTR_POSEDGE = 1,
	GPIO_INTR_NEGEDGE = 2,
	GPIO_INTR_ANYEDGE = 3,
} gpio_int_type_t;
typedef struct {
	uint64_t pin_bit_mask;
	gpio_mode_t mode;
	gpio_pullup_t pull_up_en;
	gpio_pulldown_t pull_down_en;
	gpio_int_type_t intr_type;
} gpio_config_t;
typedef void (*gpio_isr_t)(void *arg);
esp_err_t gpio_config(const gpio_config_t *config);
esp_err_t gpio_install_isr_service(int intr_alloc_flags);
esp_err_t gpio_isr_handler_add(gpio_num_t gpio_num, gpio_isr_t isr_handler, void *args);
esp_err_t gpio_isr_handler_remove(gpio_num_t gpio_num);

/* soc/soc.h, soc/gpio_reg.h (ESP32) */
#define REG_READ(_r) (*(volatile uint32_t *)(_r))
#define GPIO_IN_REG 0x3FF4403C
#define GPIO_IN1_REG 0x3FF44040

#endif
