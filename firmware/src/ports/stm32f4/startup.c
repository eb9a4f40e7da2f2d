/**
 * @file startup.c
 * @brief Vector table and reset handler of the STM32F4 images (82 interrupts of the STM32F405/407; the F429's
 *        further ones are never enabled).
 *
 * Reset: el_cm_startup (FPU, .data, .bss, stack paint; ports/cortex_m), the clocks, then main(). Every
 * fault prints a line on the link and stops (el_stm32_halt: the board resets, QEMU exits with code 3).
 */
#include <stdint.h>

#include "ports/stm32f4/stm32f4.h"

extern uint32_t el_stack_top[];

int main(void);
void el_reset_handler(void);
void el_fault_handler(void);

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
    el_cm_startup();
    el_stm32_clock_init();
    el_stm32_boot();
    (void)main();
    el_stm32_halt(0);
}

void el_fault_handler(void)
{
    el_cm_fault_line(el_stm32_usart_putc);
    el_stm32_halt(EL_FAULT_EXIT_CODE);
}
