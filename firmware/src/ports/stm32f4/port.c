/**
 * @file port.c
 * @brief el_port.h for the STM32F4 (NUCLEO-F429ZI, and QEMU's netduinoplus2), except el_port_entropy, which each
 *        build brings (hw/rng.c, qemu/emulated.c).
 *
 * Ticks: SysTick on the 168 MHz processor clock, extended to 32 bits in software (wraps after ~25.6 s). Under QEMU
 * with `-icount shift=0` (one instruction per virtual ns) a tick is 1/0.168 instructions.
 *
 * Boot id: a counter kept in .noinit (survives NVIC_SystemReset) mixed with el_stm32_boot_seed().
 *
 * Reset: NVIC_SystemReset (AIRCR.SYSRESETREQ).
 */
#include "app/el_port.h"

#include "ports/stm32f4/stm32f4.h"

#define BOOT_MAGIC 0xB007C0DEu

static volatile uint32_t s_tick_hi; /* SysTick wraps (2^24 ticks each) */
static uint32_t s_boot_id;

static struct {
    uint32_t magic;
    uint32_t count;
} s_boot __attribute__((section(".noinit")));

void el_systick_handler(void) { s_tick_hi++; }

uint32_t el_stm32_mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

uint32_t el_stm32_boot_count(void) { return s_boot.count; }

void el_stm32_boot(void)
{
    if (s_boot.magic != BOOT_MAGIC) {
        s_boot.magic = BOOT_MAGIC;
        s_boot.count = 0;
    }
    s_boot.count++;
    s_boot_id = el_stm32_mix32(s_boot.count * 0x9E3779B9u ^ el_stm32_mix32(el_stm32_boot_seed()));
}

void el_port_init(void)
{
    el_stm32_usart_init();
    s_tick_hi = 0;
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 0x7u; /* processor clock, interrupt, enable */
}

void el_port_write(const uint8_t *buf, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        el_stm32_usart_putc(buf[i]);
    }
}

int el_port_read_byte(void) { return el_stm32_usart_getc(); }

uint32_t el_port_ticks(void)
{
    uint32_t hi;
    uint32_t lo;
    do {
        hi = s_tick_hi;
        lo = SYST_CVR;
        if (SCB_ICSR & (1u << 26)) { /* a wrap not yet counted: SysTick pending */
            hi++;
            lo = SYST_CVR;
            break;
        }
    } while (hi != s_tick_hi);
    return (hi << 24) + (0x00FFFFFFu - lo);
}

uint32_t el_port_tick_hz(void) { return STM32_HCLK_HZ; }

uint32_t el_port_boot_id(void) { return s_boot_id; }

void el_port_reset(void)
{
    __asm volatile("dsb" ::: "memory");
    SCB_AIRCR = (0x05FAu << 16) | (1u << 2); /* VECTKEY | SYSRESETREQ */
    __asm volatile("dsb" ::: "memory");
    for (;;) {
    }
}

void el_port_exit(int code) { el_stm32_halt(code); }

int el_port_sensor_read(float *out, int max_channels)
{
    (void)out;
    (void)max_channels;
    return 0; /* no sensor on the board: samples come over the link (SAMPLE) */
}
