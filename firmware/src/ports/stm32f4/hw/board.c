/** @file board.c @brief The board build's side of the port: real waits for the clock tree, stop by resetting. */
#include "app/el_port.h"

#include "ports/stm32f4/stm32f4.h"

void el_stm32_wait_bits(volatile uint32_t *reg, uint32_t mask, uint32_t value)
{
    while ((*reg & mask) != value) {
    }
}

void el_stm32_halt(int code)
{
    (void)code; /* nobody to tell on a board without a debugger: start again */
    el_port_reset();
    for (;;) {
    }
}
