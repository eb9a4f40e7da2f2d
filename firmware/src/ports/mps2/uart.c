/**
 * @file uart.c
 * @brief Polled CMSDK APB UART0 (8N1; QEMU ignores the baud divider).
 *
 * Receiving spins on RXFULL. Sleeping in WFI until the receive interrupt was measured too (docs/boards.md, "The
 * emulated link's speed"): bulk transfers into the device ran twice as fast, but the quick study, whose rounds are
 * many short exchanges, took 227 s instead of 199 s, so the port keeps polling.
 */
#include "ports/mps2/mps2.h"

void el_mps2_uart_init(void)
{
    UART_BAUDDIV = 16u;
    UART_CTRL = 0x3u; /* TX_EN | RX_EN, no interrupts */
}

void el_mps2_uart_putc(uint8_t c)
{
    while (UART_STATE & 0x1u) {
    }
    UART_DATA = c;
}

int el_mps2_uart_getc(void)
{
    while (!(UART_STATE & 0x2u)) {
    }
    return (int)(UART_DATA & 0xFFu);
}
