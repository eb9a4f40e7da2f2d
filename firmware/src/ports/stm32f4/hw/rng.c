/**
 * @file rng.c
 * @brief The STM32F4 RNG peripheral (analog noise, clocked by PLL48CLK) as the training key's entropy source.
 *
 * Checks (RM0090, RNG): a seed error (SECS) or a clock error (CECS) makes the bytes unusable; as FIPS 140-2's
 * continuous test asks, the first word after enabling is not used and every word must differ from the one before.
 * Any failure, or no word within a bound, and the bytes come from the weak fallback, reported as EL_ENTROPY_WEAK.
 */
#include "app/el_port.h"

#include "ports/stm32f4/stm32f4.h"

#define RNG_SR_DRDY (1u << 0)
#define RNG_SR_CECS (1u << 1)
#define RNG_SR_SECS (1u << 2)
#define RNG_CR_RNGEN (1u << 2)
#define RNG_WAIT_LIMIT 100000u /* a word takes about 40 PLL48CLK periods; this is far longer */

static int s_started;
static uint32_t s_last;

/** One word from the RNG into *out: 1 on success, 0 on an error, a timeout or a repeated word. */
static int rng_word(uint32_t *out)
{
    uint32_t n;
    uint32_t word;
    for (n = 0; !(RNG_SR & RNG_SR_DRDY); n++) {
        if (n == RNG_WAIT_LIMIT || (RNG_SR & (RNG_SR_CECS | RNG_SR_SECS))) {
            return 0;
        }
    }
    if (RNG_SR & (RNG_SR_CECS | RNG_SR_SECS)) {
        return 0;
    }
    word = RNG_DR;
    if (word == s_last) {
        return 0; /* the continuous test failed */
    }
    s_last = word;
    *out = word;
    return 1;
}

static int rng_start(void)
{
    uint32_t first;
    if (s_started) {
        return 1;
    }
    RCC_AHB2ENR |= RCC_AHB2ENR_RNGEN;
    (void)RCC_AHB2ENR;
    RNG_CR |= RNG_CR_RNGEN;
    s_last = 0;
    if (!rng_word(&first)) { /* kept only for the comparison with the next word */
        return 0;
    }
    s_started = 1;
    return 1;
}

/** len bytes from the RNG; 1 when every one came from it. */
static int rng_bytes(uint8_t *buf, size_t len)
{
    size_t i;
    uint32_t word = 0;
    if (!rng_start()) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if ((i & 3u) == 0 && !rng_word(&word)) {
            s_started = 0; /* start over (and discard a first word) next time */
            RNG_CR &= ~RNG_CR_RNGEN;
            return 0;
        }
        buf[i] = (uint8_t)(word >> (8u * (i & 3u)));
    }
    return 1;
}

int el_port_entropy(uint8_t *buf, size_t len)
{
    uint32_t x;
    size_t i;
    if (rng_bytes(buf, len)) {
        return EL_ENTROPY_HARDWARE;
    }
    x = el_cm_mix32(el_cm_boot_count() ^ SYST_CVR);
    for (i = 0; i < len; i++) {
        x = el_cm_mix32(x + 0x9E3779B9u + (uint32_t)i);
        buf[i] = (uint8_t)x;
    }
    return EL_ENTROPY_WEAK;
}

uint32_t el_stm32_boot_seed(void)
{
    uint32_t word = 0;
    if (rng_start() && rng_word(&word)) {
        return word;
    }
    return SYST_CVR;
}
