/**
 * @file el_cortex_m.c
 * @brief The Cortex-M code every bare-metal port shares (el_cortex_m.h), and el_port.h's stack figures.
 *
 * Ticks: SysTick counts down 2^24 ticks of the processor clock per wrap; the wraps are counted in the SysTick
 * exception, and a wrap between the two reads shows as a pending SysTick. Under QEMU with `-icount shift=0` tick
 * counts repeat run to run to within one tick.
 */
#include "ports/cortex_m/el_cortex_m.h"

#include <stddef.h>

#include "app/el_port.h"

#define BOOT_MAGIC 0xB007C0DEu
#define STACK_PAINT 0xA5A5A5A5u

extern uint32_t el_data_start[], el_data_end[], el_data_load[];
extern uint32_t el_bss_start[], el_bss_end[];
extern uint32_t el_stack_bottom[], el_stack_top[];

static volatile uint32_t s_tick_hi; /* SysTick wraps (2^24 ticks each) */

static struct {
    uint32_t magic;
    uint32_t count;
} s_boot __attribute__((section(".noinit")));

void el_cm_startup(void)
{
    uint32_t *p;
    uint32_t *sp;
    const uint32_t *src;

#if defined(__ARM_FP)
    SCB_CPACR |= 0xFu << 20; /* CP10, CP11 full access */
    __asm volatile("dsb\n\tisb" ::: "memory");
#endif
    for (p = el_data_start, src = el_data_load; p < el_data_end;) {
        *p++ = *src++;
    }
    for (p = el_bss_start; p < el_bss_end;) {
        *p++ = 0;
    }
    __asm volatile("mov %0, sp" : "=r"(sp));
    for (p = el_stack_bottom; p < sp - 16;) { /* keep clear of this frame */
        *p++ = STACK_PAINT;
    }
}

void el_systick_handler(void) { s_tick_hi++; }

void el_cm_systick_start(void)
{
    s_tick_hi = 0;
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 0x7u; /* processor clock, interrupt, enable */
}

uint32_t el_cm_ticks(void)
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

void el_cm_reset(void)
{
    __asm volatile("dsb" ::: "memory");
    SCB_AIRCR = (0x05FAu << 16) | (1u << 2); /* VECTKEY | SYSRESETREQ */
    __asm volatile("dsb" ::: "memory");
    for (;;) {
    }
}

uint32_t el_cm_count_boot(void)
{
    if (s_boot.magic != BOOT_MAGIC) {
        s_boot.magic = BOOT_MAGIC;
        s_boot.count = 0;
    }
    return ++s_boot.count;
}

uint32_t el_cm_boot_count(void) { return s_boot.count; }

uint32_t el_cm_mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

void el_cm_fault_line(void (*putc)(uint8_t))
{
    static const char msg[] = "\r\nEL-FAULT\r\n";
    const char *c;
    for (c = msg; *c != '\0'; c++) {
        putc((uint8_t)*c);
    }
}

uint32_t el_port_stack_high_water(void)
{
    const uint32_t *p = el_stack_bottom;
    while (p < el_stack_top && *p == STACK_PAINT) {
        p++;
    }
    return (uint32_t)((uintptr_t)el_stack_top - (uintptr_t)p);
}

uint32_t el_port_stack_size(void) { return (uint32_t)((uintptr_t)el_stack_top - (uintptr_t)el_stack_bottom); }

uint32_t el_port_static_ram(void)
{
    return (uint32_t)(((uintptr_t)el_data_end - (uintptr_t)el_data_start) +
                      ((uintptr_t)el_bss_end - (uintptr_t)el_bss_start));
}
