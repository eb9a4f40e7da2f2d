/** @file mps2.h @brief Registers and helpers of the QEMU MPS2 AN385/AN386 port (internal to ports/mps2). */
#ifndef EL_MPS2_H
#define EL_MPS2_H

#include <stdint.h>

#include "ports/cortex_m/el_cortex_m.h"
#include "ports/semihost/el_semihost.h"

/* CMSDK APB UART0 */
#define UART0_BASE 0x40004000u
#define UART_DATA EL_REG(UART0_BASE + 0x00u)
#define UART_STATE EL_REG(UART0_BASE + 0x04u) /* bit0 TXFULL, bit1 RXFULL */
#define UART_CTRL EL_REG(UART0_BASE + 0x08u)  /* bit0 TX_EN, bit1 RX_EN */
#define UART_BAUDDIV EL_REG(UART0_BASE + 0x10u)

/** MPS2 SYSCLK: the SysTick processor clock QEMU models (25 MHz). */
#define MPS2_SYSCLK_HZ 25000000u

void el_mps2_uart_init(void);
void el_mps2_uart_putc(uint8_t c);
int el_mps2_uart_getc(void);

/** Called once from the reset handler before main(). */
void el_mps2_boot(void);

#endif /* EL_MPS2_H */
