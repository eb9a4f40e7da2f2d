/**
 * @file startup.c
 * @brief Vector table and reset handler of the QEMU MPS2 images.
 *
 * Reset: enable the FPU (Cortex-M4F builds), copy .data, zero .bss, paint
 * the stack for the high-water mark, then main(). Every fault ends QEMU
 * through semihosting with exit code 3 after printing a line on UART0.
 */
#include <stdint.h>

#include "ports/mps2/mps2.h"

extern uint32_t el_data_start[], el_data_end[], el_data_load[];
extern uint32_t el_bss_start[], el_bss_end[];
extern uint32_t el_stack_bottom[], el_stack_top[];

int main(void);
void el_reset_handler(void);
void el_fault_handler(void);
void el_systick_handler(void);

#define EL_STACK_PAINT 0xA5A5A5A5u
#define EL_FAULT_EXIT_CODE 3

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
        *p++ = EL_STACK_PAINT;
    }
    el_mps2_boot();
    (void)main();
    el_semihost_exit(0);
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
        el_mps2_uart_putc((uint8_t)*c);
    }
    el_semihost_exit(EL_FAULT_EXIT_CODE);
}
