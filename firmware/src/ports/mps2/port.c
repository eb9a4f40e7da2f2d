/**
 * @file port.c
 * @brief el_port.h for QEMU MPS2 AN385/AN386.
 *
 * Ticks: SysTick on the 25 MHz processor clock, extended to 32 bits in
 * software (wraps after ~172 s of virtual time). Under `-icount shift=0`
 * QEMU runs one instruction per virtual nanosecond, so one tick is 40
 * instructions and tick counts repeat run to run to within one tick.
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

#define BOOT_MAGIC 0xB007C0DEu

static volatile uint32_t s_tick_hi; /* SysTick wraps (2^24 ticks each) */
static uint32_t s_boot_id;

static struct {
    uint32_t magic;
    uint32_t count;
} s_boot __attribute__((section(".noinit")));

void el_systick_handler(void) { s_tick_hi++; }

static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

void el_mps2_boot(void)
{
    uint32_t seed = 0;

    if (s_boot.magic != BOOT_MAGIC) {
        s_boot.magic = BOOT_MAGIC;
        s_boot.count = 0;
    }
    s_boot.count++;
    if (!el_semihost_host_random(&seed)) {
        seed = el_semihost_time();
    }
    s_boot_id = mix32(s_boot.count * 0x9E3779B9u ^ mix32(seed));
}

int el_port_entropy(uint8_t *buf, size_t len)
{
    uint32_t x, i;
    if (el_semihost_host_random_bytes(buf, (uint32_t)len)) {
        return EL_ENTROPY_EMULATOR;
    }
    x = mix32(s_boot.count ^ el_semihost_time() ^ SYST_CVR);
    for (i = 0; i < len; i++) {
        x = mix32(x + 0x9E3779B9u + i);
        buf[i] = (uint8_t)x;
    }
    return EL_ENTROPY_WEAK;
}

void el_port_init(void)
{
    el_mps2_uart_init();
    s_tick_hi = 0;
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 0x7u; /* processor clock, interrupt, enable */
}

void el_port_write(const uint8_t *buf, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        el_mps2_uart_putc(buf[i]);
    }
}

int el_port_read_byte(void) { return el_mps2_uart_getc(); }

uint32_t el_port_ticks(void)
{
    uint32_t hi;
    uint32_t lo;
    do {
        hi = s_tick_hi;
        lo = SYST_CVR;
        /* a wrap between the two reads shows as a pending SysTick or a changed s_tick_hi */
        if (SCB_ICSR & (1u << 26)) {
            hi++;
            lo = SYST_CVR;
            break;
        }
    } while (hi != s_tick_hi);
    return (hi << 24) + (0x00FFFFFFu - lo);
}

uint32_t el_port_tick_hz(void) { return MPS2_SYSCLK_HZ; }

uint32_t el_port_boot_id(void) { return s_boot_id; }

void el_port_reset(void)
{
    __asm volatile("dsb" ::: "memory");
    SCB_AIRCR = (0x05FAu << 16) | (1u << 2); /* VECTKEY | SYSRESETREQ */
    __asm volatile("dsb" ::: "memory");
    for (;;) {
    }
}

void el_port_exit(int code) { el_semihost_exit(code); }

int el_port_sensor_read(float *out, int max_channels)
{
    (void)out;
    (void)max_channels;
    return 0; /* the emulated MPS2 board has no sensor: samples come over the link (SAMPLE) */
}
