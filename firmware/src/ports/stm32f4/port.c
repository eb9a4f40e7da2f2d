/**
 * @file port.c
 * @brief el_port.h for the STM32F4 (NUCLEO-F429ZI, and QEMU's netduinoplus2), except el_port_entropy, which each
 *        build brings (hw/rng.c, qemu/emulated.c).
 *
 * Ticks: SysTick on the 168 MHz processor clock (ports/cortex_m; wraps after ~25.6 s). Under QEMU
 * with `-icount shift=0` (one instruction per virtual ns) a tick is 1/0.168 instructions.
 *
 * Boot id: a counter kept in .noinit (survives NVIC_SystemReset) mixed with el_stm32_boot_seed().
 *
 * Reset: NVIC_SystemReset (AIRCR.SYSRESETREQ).
 */
#include "app/el_port.h"

#include "ports/stm32f4/stm32f4.h"

static uint32_t s_boot_id;

void el_stm32_boot(void)
{
    const uint32_t count = el_cm_count_boot();
    s_boot_id = el_cm_mix32(count * 0x9E3779B9u ^ el_cm_mix32(el_stm32_boot_seed()));
}

void el_port_init(void)
{
    el_stm32_usart_init();
    el_cm_systick_start();
}

void el_port_write(const uint8_t *buf, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        el_stm32_usart_putc(buf[i]);
    }
}

int el_port_read_byte(void) { return el_stm32_usart_getc(); }

uint32_t el_port_ticks(void) { return el_cm_ticks(); }

uint32_t el_port_tick_hz(void) { return STM32_HCLK_HZ; }

uint32_t el_port_boot_id(void) { return s_boot_id; }

void el_port_reset(void) { el_cm_reset(); }

void el_port_exit(int code) { el_stm32_halt(code); }

int el_port_sensor_read(float *out, int max_channels)
{
    (void)out;
    (void)max_channels;
    return 0; /* no sensor on the board: samples come over the link (SAMPLE) */
}
