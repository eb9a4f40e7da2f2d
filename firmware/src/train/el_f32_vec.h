/**
 * @file el_f32_vec.h
 * @brief The three float32 vector loops of the training step, each with a portable C body and, on cores with a
 *        single-precision FPU and fused multiply-add (Cortex-M4F, M7; `-mfpu=fpv4-sp-d16` or `fpv5-*`), a body
 *        that moves eight floats per load and store instruction (VLDM/VSTM).
 *
 * Both bodies do the same operations on every element in the same order, each product-and-sum one fused
 * multiply-add (__builtin_fmaf in the C body on cores that have one): the results are identical.
 * `-DEL_KERNELS_REFERENCE=1` builds the C bodies only (as for the int8 kernels, el_kernel_paths.h).
 */
#ifndef EL_F32_VEC_H
#define EL_F32_VEC_H

#include <stdint.h>

#if defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 0x4) && defined(__ARM_FEATURE_FMA) \
    && !(defined(EL_KERNELS_REFERENCE) && EL_KERNELS_REFERENCE)
#define EL_F32_VEC_VLDM 1
#else
#define EL_F32_VEC_VLDM 0
#endif

#if EL_F32_VEC_VLDM
/* s0..s7 += s8..s15 times the operand c, one fused multiply-add each */
#define EL_VEC_FMA8_C                                                                                              \
    "vfma.f32 s0, s8, %[c]\n\tvfma.f32 s1, s9, %[c]\n\tvfma.f32 s2, s10, %[c]\n\tvfma.f32 s3, s11, %[c]\n\t"          \
    "vfma.f32 s4, s12, %[c]\n\tvfma.f32 s5, s13, %[c]\n\tvfma.f32 s6, s14, %[c]\n\tvfma.f32 s7, s15, %[c]\n\t"
/* what a block of s0..s15 clobbers */
#define EL_VEC_CLOBBER16                                                                                           \
    "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "cc", "memory"
#endif

/* a b + c: one fused multiply-add on cores that have one (the blocks' rounding, whatever the compiler's contraction
   setting; __builtin_fmaf is expanded to the instruction even in the freestanding builds, where fmaf would be a
   library call), else a product and a sum */
#if defined(__ARM_FEATURE_FMA) || defined(__FP_FAST_FMAF)
#define EL_F32_HAVE_FMA 1
#define EL_F32_MADD(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define EL_F32_HAVE_FMA 0
#define EL_F32_MADD(a, b, c) ((a) * (b) + (c))
#endif

/** acc + sum_k (w[k] + dw[k]) x[k], k in order: each w[k] + dw[k] rounded, then one fused multiply-add. */
static inline float el_vec_dot_sum_f32(const float *w, const float *dw, const float *x, uint32_t n, float acc)
{
#if EL_F32_VEC_VLDM
    uint32_t blocks = n >> 3;
    if (blocks != 0u) {
        __asm__ volatile("1:\n\t"
                         "vldmia %[w]!, {s0-s7}\n\t"
                         "vldmia %[d]!, {s8-s15}\n\t"
                         "vldmia %[x]!, {s16-s23}\n\t"
                         "vadd.f32 s0, s0, s8\n\t"
                         "vadd.f32 s1, s1, s9\n\t"
                         "vadd.f32 s2, s2, s10\n\t"
                         "vadd.f32 s3, s3, s11\n\t"
                         "vadd.f32 s4, s4, s12\n\t"
                         "vadd.f32 s5, s5, s13\n\t"
                         "vadd.f32 s6, s6, s14\n\t"
                         "vadd.f32 s7, s7, s15\n\t"
                         "vfma.f32 %[acc], s0, s16\n\t"
                         "vfma.f32 %[acc], s1, s17\n\t"
                         "vfma.f32 %[acc], s2, s18\n\t"
                         "vfma.f32 %[acc], s3, s19\n\t"
                         "vfma.f32 %[acc], s4, s20\n\t"
                         "vfma.f32 %[acc], s5, s21\n\t"
                         "vfma.f32 %[acc], s6, s22\n\t"
                         "vfma.f32 %[acc], s7, s23\n\t"
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b"
                         : [w] "+r"(w), [d] "+r"(dw), [x] "+r"(x), [n] "+r"(blocks), [acc] "+t"(acc)
                         :
                         : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13",
                           "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "cc", "memory");
    }
    n &= 7u;
#endif
    {
        uint32_t k;
        for (k = 0; k < n; k++) {
            acc = EL_F32_MADD(w[k] + dw[k], x[k], acc);
        }
    }
    return acc;
}

/** y[k] += c a[k], k < n (one fused multiply-add each). */
static inline void el_vec_axpy_f32(float *y, const float *a, uint32_t n, float c)
{
#if EL_F32_VEC_VLDM
    uint32_t blocks = n >> 3;
    if (blocks != 0u) {
        __asm__ volatile("1:\n\t"
                         "vldmia %[y], {s0-s7}\n\t"
                         "vldmia %[a]!, {s8-s15}\n\t"
                         EL_VEC_FMA8_C
                         "vstmia %[y]!, {s0-s7}\n\t"
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b"
                         : [y] "+r"(y), [a] "+r"(a), [n] "+r"(blocks)
                         : [c] "t"(c)
                         : EL_VEC_CLOBBER16);
    }
    n &= 7u;
#endif
    {
        uint32_t k;
        for (k = 0; k < n; k++) {
            y[k] = EL_F32_MADD(c, a[k], y[k]);
        }
    }
}

/** y[k] = decay y[k] + c a[k], k < n: the product decay y[k] rounded, then one fused multiply-add. */
static inline void el_vec_scale_axpy_f32(float *y, const float *a, uint32_t n, float decay, float c)
{
#if EL_F32_VEC_VLDM
    uint32_t blocks = n >> 3;
    if (blocks != 0u) {
        __asm__ volatile("1:\n\t"
                         "vldmia %[y], {s0-s7}\n\t"
                         "vldmia %[a]!, {s8-s15}\n\t"
                         "vmul.f32 s0, s0, %[m]\n\t"
                         "vmul.f32 s1, s1, %[m]\n\t"
                         "vmul.f32 s2, s2, %[m]\n\t"
                         "vmul.f32 s3, s3, %[m]\n\t"
                         "vmul.f32 s4, s4, %[m]\n\t"
                         "vmul.f32 s5, s5, %[m]\n\t"
                         "vmul.f32 s6, s6, %[m]\n\t"
                         "vmul.f32 s7, s7, %[m]\n\t"
                         EL_VEC_FMA8_C
                         "vstmia %[y]!, {s0-s7}\n\t"
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b"
                         : [y] "+r"(y), [a] "+r"(a), [n] "+r"(blocks)
                         : [m] "t"(decay), [c] "t"(c)
                         : EL_VEC_CLOBBER16);
    }
    n &= 7u;
#endif
    {
        uint32_t k;
        for (k = 0; k < n; k++) {
            const float t = decay * y[k];
            y[k] = EL_F32_MADD(c, a[k], t);
        }
    }
}

#endif /* EL_F32_VEC_H */
