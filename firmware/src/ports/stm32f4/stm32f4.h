/**
 * @file stm32f4.h
 * @brief STM32F4 registers and the internals of the bare-metal STM32F4 port (ports/stm32f4).
 *
 * Register offsets from the STM32F405/407/415/417/427/429/437/439 reference manual (RM0090); only what the port
 * touches. Two builds share this code: the board build (hw/: real waits, the RNG) and the emulated build (qemu/:
 * QEMU 7.2's netduinoplus2 has no RCC, flash interface or RNG model, all read as zero).
 */
#ifndef EL_STM32F4_H
#define EL_STM32F4_H

#include <stddef.h>
#include <stdint.h>

#include "ports/cortex_m/el_cortex_m.h"

/* RCC (reset and clock control) */
#define RCC_BASE 0x40023800u
#define RCC_CR EL_REG(RCC_BASE + 0x00u)      /* bit0 HSION, bit1 HSIRDY, bit24 PLLON, bit25 PLLRDY */
#define RCC_PLLCFGR EL_REG(RCC_BASE + 0x04u) /* PLLM[5:0] PLLN[14:6] PLLP[17:16] PLLSRC[22] PLLQ[27:24] */
#define RCC_CFGR EL_REG(RCC_BASE + 0x08u)    /* SW[1:0] SWS[3:2] HPRE[7:4] PPRE1[12:10] PPRE2[15:13] */
#define RCC_AHB1ENR EL_REG(RCC_BASE + 0x30u) /* bit n: GPIO port n (A = 0) */
#define RCC_AHB2ENR EL_REG(RCC_BASE + 0x34u) /* bit6 RNGEN */
#define RCC_APB1ENR EL_REG(RCC_BASE + 0x40u) /* bit17 USART2, bit18 USART3 */
#define RCC_APB2ENR EL_REG(RCC_BASE + 0x44u) /* bit4 USART1 */

#define RCC_CR_HSION (1u << 0)
#define RCC_CR_HSIRDY (1u << 1)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR_SW_PLL 0x2u
#define RCC_CFGR_SWS_MASK (0x3u << 2)
#define RCC_CFGR_SWS_PLL (0x2u << 2)
#define RCC_AHB2ENR_RNGEN (1u << 6)

/* Flash interface */
#define FLASH_ACR EL_REG(0x40023C00u) /* LATENCY[3:0], bit8 PRFTEN, bit9 ICEN, bit10 DCEN */

/* GPIO ports: A at 0x40020000, one every 0x400 */
#define GPIO_BASE(port) (0x40020000u + 0x400u * (uint32_t)(port))
#define GPIO_MODER(port) EL_REG(GPIO_BASE(port) + 0x00u)
#define GPIO_OSPEEDR(port) EL_REG(GPIO_BASE(port) + 0x08u)
#define GPIO_PUPDR(port) EL_REG(GPIO_BASE(port) + 0x0Cu)
#define GPIO_AFR(port, pin) EL_REG(GPIO_BASE(port) + 0x20u + 4u * ((uint32_t)(pin) >> 3))

/* USART (the STM32F4's register block; QEMU's stm32f2xx-usart is the same) */
#define USART_SR(base) EL_REG((base) + 0x00u) /* bit5 RXNE, bit7 TXE */
#define USART_DR(base) EL_REG((base) + 0x04u)
#define USART_BRR(base) EL_REG((base) + 0x08u)
#define USART_CR1(base) EL_REG((base) + 0x0Cu) /* bit2 RE, bit3 TE, bit13 UE */
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_UE_TE_RE ((1u << 13) | (1u << 3) | (1u << 2))

/* RNG */
#define RNG_BASE 0x50060800u
#define RNG_CR EL_REG(RNG_BASE + 0x00u) /* bit2 RNGEN */
#define RNG_SR EL_REG(RNG_BASE + 0x04u) /* bit0 DRDY, bit1 CECS, bit2 SECS, bit5 CEIS, bit6 SEIS */
#define RNG_DR EL_REG(RNG_BASE + 0x08u)

/** HCLK after el_stm32_clock_init(): 168 MHz (HSI 16 MHz / 16 * 336 / 2); QEMU's netduinoplus2 runs at the same. */
#define STM32_HCLK_HZ 168000000u
#define STM32_PCLK1_HZ (STM32_HCLK_HZ / 4u) /* APB1: USART2, USART3 */
#define STM32_PCLK2_HZ (STM32_HCLK_HZ / 2u) /* APB2: USART1 */

/** The link's baud rate (the ST-LINK virtual COM port follows the host's setting; 8N1). */
#define EL_STM32_BAUD 115200u

/** Clocks: HSI -> PLL at 168 MHz, PLL48CLK 48 MHz for the RNG, APB1 /4, APB2 /2, 5 flash wait states. */
void el_stm32_clock_init(void);

/** The link's USART (EL_STM32_USART = 1, 2 or 3 at build time): clock, pins, 115200 8N1. */
void el_stm32_usart_init(void);
void el_stm32_usart_putc(uint8_t c);
int el_stm32_usart_getc(void);

/* -- what differs between the board build (hw/) and the emulated build (qemu/) ----------------------------------- */

/** Wait until (*reg & mask) == value. The board waits; the emulated build returns at once (no RCC model). */
void el_stm32_wait_bits(volatile uint32_t *reg, uint32_t mask, uint32_t value);

/** 32 bits that differ from boot to boot, for the boot id (board: the RNG; emulated: the host, via semihosting). */
uint32_t el_stm32_boot_seed(void);

/** Stop: the board resets itself; the emulated build ends QEMU with this exit code (semihosting). */
void el_stm32_halt(int code) __attribute__((noreturn));

/** Called once from the reset handler before main(). */
void el_stm32_boot(void);

#endif /* EL_STM32F4_H */
