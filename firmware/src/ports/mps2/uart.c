/**
 * @file uart.c
 * @brief CMSDK APB UART0 (8N1; QEMU ignores the baud divider).
 *
 * Sending polls TXFULL. Receiving sleeps (WFI) until a byte arrives instead of polling RXFULL: a vCPU that spins on
 * the UART's registers holds QEMU's global lock at every read, and the main loop, which hands the guest the host's
 * next byte, waits for that lock; asleep, the CPU lets it run (LOAD_WEIGHTS: 16-24 KB/s spinning, 41-48 KB/s
 * asleep; docs/boards.md). The RX interrupt wakes the CPU but is never taken: it is raised with
 * interrupts masked (PRIMASK) and cleared before they are unmasked, so a byte cannot slip in between the check and
 * the WFI, and SysTick (pending meanwhile) runs right after.
 */
#include "ports/mps2/mps2.h"

#define UART_STATE_TXFULL 0x1u
#define UART_STATE_RXFULL 0x2u
#define UART_CTRL_TX_RX_EN 0x3u
#define UART_CTRL_RX_INTEN 0x8u
#define UART_INT_RX 0x2u
#define UART0_RX_IRQ 0u

void el_mps2_uart_init(void)
{
    UART_BAUDDIV = 16u;
    UART_CTRL = UART_CTRL_TX_RX_EN;
    NVIC_ISER0 = 1u << UART0_RX_IRQ; /* may wake WFI; never taken (see above) */
}

void el_mps2_uart_putc(uint8_t c)
{
    while (UART_STATE & UART_STATE_TXFULL) {
    }
    UART_DATA = c;
}

int el_mps2_uart_getc(void)
{
    while (!(UART_STATE & UART_STATE_RXFULL)) {
        __asm volatile("cpsid i" ::: "memory");
        UART_CTRL = UART_CTRL_TX_RX_EN | UART_CTRL_RX_INTEN;
        if (!(UART_STATE & UART_STATE_RXFULL)) {
            __asm volatile("dsb\n\twfi" ::: "memory");
        }
        UART_CTRL = UART_CTRL_TX_RX_EN;
        UART_INTCLEAR = UART_INT_RX;
        NVIC_ICPR0 = 1u << UART0_RX_IRQ;
        __asm volatile("cpsie i\n\tisb" ::: "memory");
    }
    return (int)(UART_DATA & 0xFFu);
}
