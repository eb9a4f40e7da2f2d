/**
 * @file startup.c
 * @brief Vector table and reset handler of the QEMU MPS2 images.
 *
 * Reset: el_cm_startup (FPU, .data, .bss, stack paint; ports/cortex_m), then
 * main(). Every fault ends QEMU through semihosting with exit code 3 after
 * printing a line on UART0.
 */
#include <stdint.h>

#include "ports/mps2/mps2.h"

extern uint32_t el_stack_top[];

int main(void);
void el_reset_handler(void);
void el_fault_handler(void);


__attribute__((section(".isr_vector"), used)) static void (*const vectors[16 + 32])(void) = {
    (void (*)(void))el_stack_top, /* initial SP */
    el_reset_handler,
    el_fault_handler, /* NMI */
    el_fault_handler, /* HardFault */
    el_fault_handler, /* MemManage */
    el_fault_handler, /* BusFault */
    el_fault_handler, /* UsageFault */
    0, 0, 0, 0,
    el_fault_handler, /* SVC */
    el_fault_handler, /* DebugMon */
    0,
    el_fault_handler, /* PendSV */
    el_systick_handler,
    /* 32 external interrupts: none enabled; an unexpected one lands in el_fault_handler */
    el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler,
    el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler,
    el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler,
    el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler,
    el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler, el_fault_handler,
    el_fault_handler, el_fault_handler,
};

void el_reset_handler(void)
{
    el_cm_startup();
    el_mps2_boot();
    (void)main();
    el_semihost_exit(0);
}

void el_fault_handler(void)
{
    el_cm_fault_line(el_mps2_uart_putc);
    el_semihost_exit(EL_FAULT_EXIT_CODE);
}
