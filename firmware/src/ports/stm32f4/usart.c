/**
 * @file usart.c
 * @brief Polled USART driver; which USART is the link is a build-time choice (EL_STM32_USART).
 *
 * | EL_STM32_USART | base       | bus, clock       | pins (AF7)     | where                                      |
 * |----------------|------------|------------------|----------------|--------------------------------------------|
 * | 1              | 0x40011000 | APB2, 84 MHz     | PA9 TX, PA10 RX | QEMU netduinoplus2's -serial               |
 * | 2              | 0x40004400 | APB1, 42 MHz     | PA2 TX, PA3 RX  | Nucleo-64 boards' ST-LINK virtual COM port |
 * | 3              | 0x40004800 | APB1, 42 MHz     | PD8 TX, PD9 RX  | NUCLEO-F429ZI's ST-LINK virtual COM port   |
 */
#include "ports/stm32f4/stm32f4.h"

#ifndef EL_STM32_USART
#error "EL_STM32_USART (1, 2 or 3) chooses the link's USART: set it in the env's build_flags"
#endif

typedef struct {
    uint32_t base;
    volatile uint32_t *enable_reg; /* RCC_APB1ENR or RCC_APB2ENR */
    uint32_t enable_bit;
    uint32_t pclk_hz;
    uint32_t gpio_port; /* 0 = A */
    uint32_t tx_pin;
    uint32_t rx_pin;
} el_usart_instance;

#if EL_STM32_USART == 1
#define EL_USART_INSTANCE {0x40011000u, &RCC_APB2ENR, 1u << 4, STM32_PCLK2_HZ, 0u, 9u, 10u}
#elif EL_STM32_USART == 2
#define EL_USART_INSTANCE {0x40004400u, &RCC_APB1ENR, 1u << 17, STM32_PCLK1_HZ, 0u, 2u, 3u}
#elif EL_STM32_USART == 3
#define EL_USART_INSTANCE {0x40004800u, &RCC_APB1ENR, 1u << 18, STM32_PCLK1_HZ, 3u, 8u, 9u}
#else
#error "EL_STM32_USART must be 1, 2 or 3"
#endif

static const el_usart_instance s_usart = EL_USART_INSTANCE;

static void pin_to_af7(uint32_t port, uint32_t pin)
{
    GPIO_MODER(port) = (GPIO_MODER(port) & ~(0x3u << (2u * pin))) | (0x2u << (2u * pin)); /* alternate function */
    GPIO_OSPEEDR(port) |= 0x2u << (2u * pin);                                             /* high speed */
    GPIO_PUPDR(port) = (GPIO_PUPDR(port) & ~(0x3u << (2u * pin))) | (0x1u << (2u * pin)); /* pull-up: idle high */
    GPIO_AFR(port, pin) = (GPIO_AFR(port, pin) & ~(0xFu << (4u * (pin & 7u)))) | (0x7u << (4u * (pin & 7u)));
}

void el_stm32_usart_init(void)
{
    RCC_AHB1ENR |= 1u << s_usart.gpio_port;
    *s_usart.enable_reg |= s_usart.enable_bit;
    (void)*s_usart.enable_reg; /* a read after enabling a peripheral clock, before touching the peripheral */
    pin_to_af7(s_usart.gpio_port, s_usart.tx_pin);
    pin_to_af7(s_usart.gpio_port, s_usart.rx_pin);
    USART_CR1(s_usart.base) = 0;
    USART_BRR(s_usart.base) = (s_usart.pclk_hz + EL_STM32_BAUD / 2u) / EL_STM32_BAUD; /* 16x oversampling */
    USART_CR1(s_usart.base) = USART_CR1_UE_TE_RE;                                      /* 8N1, no interrupts */
}

void el_stm32_usart_putc(uint8_t c)
{
    while (!(USART_SR(s_usart.base) & USART_SR_TXE)) {
    }
    USART_DR(s_usart.base) = c;
}

int el_stm32_usart_getc(void)
{
    while (!(USART_SR(s_usart.base) & USART_SR_RXNE)) {
    }
    return (int)(USART_DR(s_usart.base) & 0xFFu); /* reading DR clears RXNE (and an overrun, after SR was read) */
}
