/** @file clock.c @brief STM32F4 clock tree: 168 MHz from the internal 16 MHz HSI (no board crystal needed). */
#include "ports/stm32f4/stm32f4.h"

#define PLL_M 16u  /* 16 MHz / 16 = 1 MHz at the VCO input */
#define PLL_N 336u /* VCO 336 MHz */
#define PLL_P 2u   /* SYSCLK 168 MHz */
#define PLL_Q 7u   /* PLL48CLK 48 MHz: the RNG's clock */
#define FLASH_LATENCY_5WS 5u
#define FLASH_ACR_CACHES ((1u << 8) | (1u << 9) | (1u << 10)) /* prefetch, instruction and data caches */

void el_stm32_clock_init(void)
{
    RCC_CR |= RCC_CR_HSION;
    el_stm32_wait_bits(&RCC_CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY);

    /* 5 wait states before SYSCLK goes above 150 MHz (2.7-3.6 V) */
    FLASH_ACR = FLASH_LATENCY_5WS | FLASH_ACR_CACHES;
    el_stm32_wait_bits(&FLASH_ACR, 0xFu, FLASH_LATENCY_5WS);

    /* AHB /1, APB1 /4 (42 MHz, at most 42), APB2 /2 (84 MHz, at most 84) */
    RCC_CFGR = (RCC_CFGR & ~0xFCF0u) | (0x5u << 10) | (0x4u << 13);

    RCC_CR &= ~RCC_CR_PLLON;
    RCC_PLLCFGR = PLL_M | (PLL_N << 6) | (((PLL_P / 2u) - 1u) << 16) | (PLL_Q << 24); /* PLLSRC = HSI */
    RCC_CR |= RCC_CR_PLLON;
    el_stm32_wait_bits(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY);

    RCC_CFGR = (RCC_CFGR & ~0x3u) | RCC_CFGR_SW_PLL;
    el_stm32_wait_bits(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL);
}
