/**
 * @file port.c
 * @brief el_port.h for QEMU MPS2 AN385/AN386.
 *
 * Ticks: SysTick on the 25 MHz processor clock (ports/cortex_m; wraps after
 * ~172 s of virtual time). Under `-icount shift=0` QEMU runs one instruction
 * per virtual nanosecond, so one tick is 40 instructions.
 *
 * Boot id: the emulated board has no entropy source. A counter kept in
 * .noinit (not reloaded, not zeroed, so it survives NVIC_SystemReset)
 * changes at every warm reset; 4 bytes of the host's /dev/urandom, read
 * through semihosting (SYS_OPEN/SYS_READ), make cold starts differ (falling
 * back to the host clock, SYS_TIME, when the file cannot be read). The boot
 * id is a 32-bit mix of both.
 *
 * Entropy (training PRNG key): the host's /dev/urandom through semihosting. Without it (semihosting
 * refused the file) the bytes are a mix of the boot counter, the host clock and SysTick: weak
 * (EL_ENTROPY_WEAK). Even the host's bytes come from the machine that runs the emulator, i.e. the
 * server's: EL_ENTROPY_EMULATOR, good for functional tests of the floor, not for security claims.
 *
 * Reset: NVIC_SystemReset (AIRCR.SYSRESETREQ). QEMU's MPS2 machines reset
 * the whole machine on it, reload the image and keep the serial connection.
 */
#include "app/el_port.h"

#include "ports/mps2/mps2.h"

static uint32_t s_boot_id;

void el_mps2_boot(void)
{
    uint32_t seed = 0;
    const uint32_t count = el_cm_count_boot();

    if (!el_semihost_host_random(&seed)) {
        seed = el_semihost_time();
    }
    s_boot_id = el_cm_mix32(count * 0x9E3779B9u ^ el_cm_mix32(seed));
}

int el_port_entropy(uint8_t *buf, size_t len)
{
    uint32_t x, i;
    if (el_semihost_host_random_bytes(buf, (uint32_t)len)) {
        return EL_ENTROPY_EMULATOR;
    }
    x = el_cm_mix32(el_cm_boot_count() ^ el_semihost_time() ^ SYST_CVR);
    for (i = 0; i < len; i++) {
        x = el_cm_mix32(x + 0x9E3779B9u + i);
        buf[i] = (uint8_t)x;
    }
    return EL_ENTROPY_WEAK;
}

void el_port_init(void)
{
    el_mps2_uart_init();
    el_cm_systick_start();
}

void el_port_write(const uint8_t *buf, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        el_mps2_uart_putc(buf[i]);
    }
}

int el_port_read_byte(void) { return el_mps2_uart_getc(); }

uint32_t el_port_ticks(void) { return el_cm_ticks(); }

uint32_t el_port_tick_hz(void) { return MPS2_SYSCLK_HZ; }

uint32_t el_port_boot_id(void) { return s_boot_id; }

void el_port_reset(void) { el_cm_reset(); }

void el_port_exit(int code) { el_semihost_exit(code); }

int el_port_sensor_read(float *out, int max_channels)
{
    (void)out;
    (void)max_channels;
    return 0; /* the emulated MPS2 board has no sensor: samples come over the link (SAMPLE) */
}
