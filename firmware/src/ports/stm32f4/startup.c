/**
 * @file startup.c
 * @brief Vector table and reset handler of the STM32F4 images (82 interrupts of the STM32F405/407; the F429's
 *        further ones are never enabled).
 *
 * Reset: enable the FPU, copy .data, zero .bss, paint the stack for the high-water mark, then main(). Every
 * fault prints a line on the link and stops (el_stm32_halt: the board resets, QEMU exits with code 3).
 */
#include <stdint.h>

#include "ports/stm32f4/stm32f4.h"

extern uint32_t el_data_start[], el_data_end[], el_data_load[];
extern uint32_t el_bss_start[], el_bss_end[];
extern uint32_t el_stack_bottom[], el_stack_top[];

int main(void);
void el_reset_handler(void);
void el_fault_handler(void);
void el_systick_handler(void);

#define EL_STACK_PAINT 0xA5A5A5A5u
#define EL_FAULT_EXIT_CODE 3
#define EL_STM32_IRQS 82

typedef void (*el_vector)(void);

/* initial SP, 15 system exceptions, the external interrupts: every unexpected one lands in el_fault_handler */
__attribute__((section(".isr_vector"), used)) static const el_vector vectors[16 + EL_STM32_IRQS] = {
    [0] = (el_vector)el_stack_top,
    [1] = el_reset_handler,
    [2 ... 6] = el_fault_handler,   /* NMI, HardFault, MemManage, BusFault, UsageFault */
    [11 ... 12] = el_fault_handler, /* SVC, DebugMon */
    [14] = el_fault_handler,        /* PendSV */
    [15] = el_systick_handler,
    [16 ... 16 + EL_STM32_IRQS - 1] = el_fault_handler,
};

void el_reset_handler(void)
{
    uint32_t *p;
    uint32_t *sp;
    const uint32_t *src;

    SCB_CPACR |= 0xFu << 20; /* CP10, CP11 full access: the STM32F4 has an FPU, the image is built hard float */
    __asm volatile("dsb\n\tisb" ::: "memory");
    for (p = el_data_start, src = el_data_load; p < el_data_end;) {
        *p++ = *src++;
    }
    for (p = el_bss_start; p < el_bss_end;) {
        *p++ = 0;
    }
    __asm volatile("mov %0, sp" : "=r"(sp));
    for (p = el_stack_bottom; p < sp - 16;) { /* keep clear of this frame */
        *p++ = EL_STACK_PAINT;
    }
    el_stm32_clock_init();
    el_stm32_boot();
    (void)main();
    el_stm32_halt(0);
}

uint32_t el_port_stack_high_water(void)
{
    const uint32_t *p = el_stack_bottom;
    while (p < el_stack_top && *p == EL_STACK_PAINT) {
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

void el_fault_handler(void)
{
    static const char msg[] = "\r\nEL-FAULT\r\n";
    const char *c;
    for (c = msg; *c != '\0'; c++) {
        el_stm32_usart_putc((uint8_t)*c);
    }
    el_stm32_halt(EL_FAULT_EXIT_CODE);
}
