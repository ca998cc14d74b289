/*
 * ESP-IDF app rollback for the update's slots (ota-slots.ts). The image bytes go
 * through the flash module's "nextota" partition, block by block, so a download
 * resumes after a power cut (esp_ota_begin would erase the slot again); these
 * functions only read and move the OTA state in otadata. The build needs
 * CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE (docs/update.md): without it the
 * bootloader never marks a new image PENDING_VERIFY and never rolls back.
 */
#include <stddef.h>
#include <stdint.h>

#include "xsmc.h"
#include "xsHost.h"
#include "app_update/include/esp_ota_ops.h"
#include "esp_system.h"

/* The running image's first boot after an activation: PENDING_VERIFY until confirmed or rolled back. */
void xs_xspos_ota_pending(xsMachine *the)
{
	esp_ota_img_states_t state;
	const esp_partition_t *running = esp_ota_get_running_partition();
	xsmcSetBoolean(xsResult, running != NULL && esp_ota_get_state_partition(running, &state) == ESP_OK &&
		state == ESP_OTA_IMG_PENDING_VERIFY);
}

/* The inactive slot holds the image the bootloader abandoned (INVALID or ABORTED): the last trial failed. */
void xs_xspos_ota_trial_failed(xsMachine *the)
{
	const esp_partition_t *invalid = esp_ota_get_last_invalid_partition();
	xsmcSetBoolean(xsResult, invalid != NULL && invalid == esp_ota_get_next_update_partition(NULL));
}

/*
 * The abandoned trial was reported: its otadata entry (the inactive one, INVALID) is erased, the slot's bytes
 * are left alone, so esp_ota_get_last_invalid_partition reads NULL until another trial fails. Without this, an
 * activation cut before esp_ota_set_boot_partition would read as a failed trial of the new image.
 */
void xs_xspos_ota_forget_failed_trial(xsMachine *the)
{
	if (esp_ota_invalidate_inactive_ota_data_slot() != ESP_OK)
		xsUnknownError("ota: the failed trial's otadata could not be erased");
}

/* The inactive slot boots next (NEW, then PENDING_VERIFY on its first boot). ESP-IDF checks the image's own header and hash. */
void xs_xspos_ota_activate(xsMachine *the)
{
	const esp_partition_t *next = esp_ota_get_next_update_partition(NULL);
	if (next == NULL)
		xsUnknownError("ota: no inactive slot");
	if (esp_ota_set_boot_partition(next) != ESP_OK)
		xsUnknownError("ota: the inactive slot does not hold a bootable image");
}

void xs_xspos_ota_confirm(xsMachine *the)
{
	if (esp_ota_mark_app_valid_cancel_rollback() != ESP_OK)
		xsUnknownError("ota: confirm failed");
}

/* Marks the running image invalid and reboots into the previous slot: it does not return when it works. */
void xs_xspos_ota_rollback(xsMachine *the)
{
	esp_ota_mark_app_invalid_rollback_and_reboot();
	xsUnknownError("ota: rollback failed (no previous valid slot)");
}

/* Restarts into the slot that boots next (after an activation). */
void xs_xspos_restart(xsMachine *the)
{
	esp_restart();
}
