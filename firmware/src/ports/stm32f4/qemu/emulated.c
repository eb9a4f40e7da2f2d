/**
 * @file emulated.c
 * @brief The emulated build's side of the STM32F4 port (QEMU 7.2, netduinoplus2).
 *
 * QEMU models no RCC, flash interface or RNG on the STM32F405: they read as zero, so the clock tree's waits would
 * never end and there is no hardware entropy. The waits return at once, and el_port_entropy always reports
 * EL_ENTROPY_WEAK: the bytes mix the host's /dev/urandom (semihosting) when it can be read, else the boot counter,
 * the host clock and SysTick, but they come from the machine that runs the emulator, never from a hardware RNG. A
 * build with a privacy floor therefore refuses noisy rounds here (E_ENTROPY), as it must.
 */
#include "app/el_port.h"

#include "ports/semihost/el_semihost.h"
#include "ports/stm32f4/stm32f4.h"

void el_stm32_wait_bits(volatile uint32_t *reg, uint32_t mask, uint32_t value)
{
    (void)reg;
    (void)mask;
    (void)value;
}

uint32_t el_stm32_boot_seed(void)
{
    uint32_t seed;
    if (!el_semihost_host_random(&seed)) {
        seed = el_semihost_time();
    }
    return seed;
}

int el_port_entropy(uint8_t *buf, size_t len)
{
    uint32_t x;
    size_t i;
    if (el_semihost_host_random_bytes(buf, (uint32_t)len)) {
        return EL_ENTROPY_WEAK; /* the emulator's host, not the board: never reported as hardware */
    }
    x = el_cm_mix32(el_cm_boot_count() ^ el_semihost_time() ^ SYST_CVR);
    for (i = 0; i < len; i++) {
        x = el_cm_mix32(x + 0x9E3779B9u + (uint32_t)i);
        buf[i] = (uint8_t)x;
    }
    return EL_ENTROPY_WEAK;
}

void el_stm32_halt(int code) { el_semihost_exit(code); }
