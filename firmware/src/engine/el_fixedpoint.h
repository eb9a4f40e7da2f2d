/**
 * @file el_fixedpoint.h
 * @brief Integer fixed-point helpers, bit-exact with TensorFlow Lite Micro's
 *        reference kernels (default double rounding, TFLITE_SINGLE_ROUNDING off)
 *        and with gemmlowp's scalar fixed-point functions used by softmax.
 *
 * Conventions:
 * - A "Qm" value is an int32_t with m integer bits and 31 - m fractional bits.
 * - Multipliers are Q31 in [0, 2^31 - 1]; shifts are signed, positive = left.
 * - Additions that TFLite performs without saturation wrap modulo 2^32 here
 *   (done through uint32_t, so no signed-overflow undefined behaviour).
 * - Right shifts of negative values are arithmetic (true for GCC/Clang on every
 *   target this firmware supports).
 *
 * Everything is static inline: no state, no allocation, no I/O.
 */
#ifndef EL_FIXEDPOINT_H
#define EL_FIXEDPOINT_H

#include <stdint.h>

/** a + b modulo 2^32. */
static inline int32_t el_add_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/** a - b modulo 2^32. */
static inline int32_t el_sub_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/** a * b modulo 2^32. */
static inline int32_t el_mul_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a * (uint32_t)b);
}

/** Clamp v to [lo, hi]. */
static inline int32_t el_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/** Count of leading zero bits of a 32-bit value (32 for 0). */
static inline int el_clz32(uint32_t x)
{
    int n = 0;
    if (x == 0u) {
        return 32;
    }
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        n++;
    }
    return n;
}

/** Count of leading zero bits of a 64-bit value (64 for 0). */
static inline int el_clz64(uint64_t x)
{
    uint32_t hi = (uint32_t)(x >> 32);
    return hi != 0u ? el_clz32(hi) : 32 + el_clz32((uint32_t)x);
}

/**
 * round(a * b / 2^31) with ties away from zero, as gemmlowp's
 * SaturatingRoundingDoublingHighMul; saturates to INT32_MAX only for
 * a = b = INT32_MIN.
 */
static inline int32_t el_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    /* gemmlowp adds 2^30 (ab >= 0) or 1 - 2^30 (ab < 0) and divides by 2^31, truncating. For ab < 0 that is
     * ceil((ab + 1 - 2^30) / 2^31) = floor((ab + 2^30) / 2^31), so both cases are one arithmetic shift
     * (no 64-bit division). */
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/**
 * x / 2^exponent rounded to nearest, ties away from zero
 * (gemmlowp RoundingDivideByPOT). exponent in [0, 31].
 */
static inline int32_t el_rdbpot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/**
 * x * multiplier * 2^shift with TFLite's default double rounding
 * (MultiplyByQuantizedMultiplier for int32 x).
 * @param multiplier Q31, >= 0
 * @param shift      [-31, 30]; positive = left
 */
static inline int32_t el_mbqm(int32_t x, int32_t multiplier, int shift)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    return el_rdbpot(el_srdhm(el_mul_wrap(x, (int32_t)((uint32_t)1 << left)), multiplier), right);
}

/**
 * TFLite's MultiplyByQuantizedMultiplierGreaterThanOne (double rounding):
 * SRDHM(x * 2^left_shift, multiplier). left_shift in [0, 30].
 */
static inline int32_t el_mbqm_gt_one(int32_t x, int32_t multiplier, int left_shift)
{
    return el_srdhm(el_mul_wrap(x, (int32_t)((uint32_t)1 << left_shift)), multiplier);
}

/**
 * gemmlowp SaturatingRoundingMultiplyByPOT: x * 2^exponent, saturating for
 * exponent > 0, rounding (el_rdbpot) for exponent < 0. exponent in [-31, 30].
 */
static inline int32_t el_srmbpot(int32_t x, int exponent)
{
    if (exponent > 0) {
        const int32_t threshold = (int32_t)(((uint32_t)1 << (31 - exponent)) - 1u);
        if (x > threshold) {
            return INT32_MAX;
        }
        if (x < -threshold) {
            return INT32_MIN;
        }
        return el_mul_wrap(x, (int32_t)((uint32_t)1 << exponent));
    }
    if (exponent < 0) {
        return el_rdbpot(x, -exponent);
    }
    return x;
}

/** gemmlowp RoundingHalfSum for int32: (a + b + sign) / 2, truncating. */
static inline int32_t el_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/** 1.0 in Q0 (gemmlowp FixedPoint<int32_t, 0>::One()). */
#define EL_Q0_ONE INT32_MAX

/**
 * gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl.
 * @param a Q0 value in [-1/4, 0)
 * @return exp(a) in Q0
 */
static inline int32_t el_exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
{
    const int32_t constant_term = 1895147668;   /* exp(-1/8) in Q0 */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 in Q0 */
    const int32_t x = el_add_wrap(a, (int32_t)1 << 28); /* a + 1/8 */
    const int32_t x2 = el_srdhm(x, x);
    const int32_t x3 = el_srdhm(x2, x);
    const int32_t x4 = el_srdhm(x2, x2);
    const int32_t x4_over_4 = el_srmbpot(x4, -2);
    const int32_t poly = el_srmbpot(
        el_add_wrap(el_srdhm(el_add_wrap(x4_over_4, x3), constant_1_over_3), x2), -1);
    /* AddSaturatingIf16Bit is a plain add for 32-bit raw values. */
    return el_add_wrap(constant_term, el_srdhm(constant_term, el_add_wrap(x, poly)));
}

/**
 * gemmlowp exp_on_negative_values for an input with integer_bits integer bits.
 * @param a            value <= 0 in Q(integer_bits)
 * @param integer_bits [0, 29] (softmax uses 5)
 * @return exp(a) in Q0
 */
static inline int32_t el_exp_on_negative_values(int32_t a, int integer_bits)
{
    static const int32_t multipliers[7] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1)   */
        290630308,  /* exp(-2)   */
        39332535,   /* exp(-4)   */
        720401,     /* exp(-8)   */
        242         /* exp(-16)  */
    };
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)((uint32_t)1 << (fractional_bits - 2));
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_one_quarter = el_sub_wrap(a & mask, one_quarter);
    int32_t result = el_exp_on_interval_between_negative_one_quarter_and_0_excl(
        el_srmbpot(a_mod_quarter_minus_one_quarter, integer_bits));
    const int32_t remainder = el_sub_wrap(a_mod_quarter_minus_one_quarter, a);
    int e;

    for (e = -2; e <= 4; e++) {
        if (integer_bits > e) {
            const int shift_amount = fractional_bits + e;
            if ((remainder & (int32_t)((uint32_t)1 << shift_amount)) != 0) {
                result = el_srdhm(result, multipliers[e + 2]);
            }
        }
    }
    if (integer_bits > 5) {
        const int32_t clamp = -(int32_t)((uint32_t)1 << (36 - integer_bits)); /* -32.0 */
        if (a < clamp) {
            result = 0;
        }
    }
    if (a == 0) {
        result = EL_Q0_ONE;
    }
    return result;
}

/**
 * gemmlowp one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a) by Newton-Raphson.
 * @param a Q0 value in [0, 1)
 * @return 1 / (1 + a) in Q0
 */
static inline int32_t el_one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t half_denominator = el_rounding_half_sum(a, EL_Q0_ONE); /* Q0 */
    const int32_t constant_48_over_17 = 1515870810;      /* Q2 */
    const int32_t constant_neg_32_over_17 = -1010580540; /* Q2 */
    const int32_t q2_one = (int32_t)1 << 29;
    int32_t x = el_add_wrap(constant_48_over_17, el_srdhm(half_denominator, constant_neg_32_over_17));
    int i;
    for (i = 0; i < 3; i++) {
        const int32_t half_denominator_times_x = el_srdhm(half_denominator, x);    /* Q2 */
        const int32_t one_minus = el_sub_wrap(q2_one, half_denominator_times_x);   /* Q2 */
        x = el_add_wrap(x, el_srmbpot(el_srdhm(x, one_minus), 2));              /* Q4 -> Q2 */
    }
    /* ExactMulByPot<-1> turns Q2 into Q1; Rescale<0> multiplies by 2^1. */
    return el_srmbpot(x, 1);
}

/**
 * TFLite GetReciprocal: x in Q(x_integer_digits), x > 0. Returns 1/x scaled to
 * Q0 and sets *num_bits_over_unit so that 1/x = result * 2^-num_bits_over_unit.
 */
static inline int32_t el_get_reciprocal(int32_t x, int x_integer_digits, int *num_bits_over_unit)
{
    const int headroom_plus_one = el_clz32((uint32_t)x);
    const int32_t shifted_sum_minus_one =
        (int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    return el_one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
}

#endif /* EL_FIXEDPOINT_H */
