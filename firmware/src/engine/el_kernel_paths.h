/**
 * @file el_kernel_paths.h
 * @brief The two implementations of the multiply-accumulate kernels and MAX_POOL_2D, and the build-time choice
 *        between them.
 *
 * - `_ref`: portable C99, a transcription of TFLite Micro's reference kernels; every target has it.
 * - `_dsp`: the same arithmetic with the Armv7E-M / Armv8-M DSP extension (SXTB16, SXTAB16, SMLAD, SSUB8/SEL;
 *   ACLE intrinsics of arm_acle.h). Compiled only where the compiler defines `__ARM_FEATURE_DSP` (Cortex-M4, M7,
 *   M33, M55); Cortex-M0+/M3 and the host have none.
 *
 * The public kernels of el_kernels.h call the DSP variant when `EL_KERNELS_DSP` is 1: a DSP core, unless the
 * build sets `-DEL_KERNELS_REFERENCE=1` (so both paths can be built, run and verified on the same core). The DSP
 * variants take exactly the arguments of the public kernels, return the same statuses and produce the same bytes;
 * shapes they do not accelerate (grouped convolution, a nonzero weight zero point, a receptive field larger than
 * `EL_DSP_WINDOW_MAX`) are handed to the reference variant.
 */
#ifndef EL_KERNEL_PATHS_H
#define EL_KERNEL_PATHS_H

#include "el_kernels.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define EL_KERNELS_HAVE_DSP 1 /**< the DSP variants are compiled */
#else
#define EL_KERNELS_HAVE_DSP 0
#endif

#if EL_KERNELS_HAVE_DSP && !(defined(EL_KERNELS_REFERENCE) && EL_KERNELS_REFERENCE)
#define EL_KERNELS_DSP 1 /**< the public kernels run the DSP variants */
#else
#define EL_KERNELS_DSP 0
#endif

/** Largest convolution receptive field (filter h * w * input channels, bytes) the DSP CONV_2D gathers on the
 *  stack; larger ones run the reference kernel. */
#define EL_DSP_WINDOW_MAX 1024

/** Largest receptive field (bytes) the DSP CONV_2D computes two pixels x two channels at a time, from fields
 *  expanded to int16 on the stack (4 bytes per field byte for the pair); larger ones one pixel at a time. */
#define EL_DSP_PAIR_MAX 128

el_status el_fully_connected_s8_ref(const el_fc_params *params, const el_requant *rq,
                                    int32_t batches, int32_t accum_depth, int32_t out_depth,
                                    const int8_t *input, const int8_t *weights,
                                    const int32_t *bias, int8_t *output);
el_status el_conv_s8_ref(const el_conv_params *params, const el_requant *rq,
                         const el_dims *in_dims, const int8_t *input,
                         const el_dims *filter_dims, const int8_t *filter,
                         const int32_t *bias,
                         const el_dims *out_dims, int8_t *output);
el_status el_depthwise_conv_s8_ref(const el_conv_params *params, const el_requant *rq,
                                   const el_dims *in_dims, const int8_t *input,
                                   const el_dims *filter_dims, const int8_t *filter,
                                   const int32_t *bias,
                                   const el_dims *out_dims, int8_t *output);
el_status el_maxpool_s8_ref(const el_pool_params *params,
                            const el_dims *in_dims, const int8_t *input,
                            const el_dims *out_dims, int8_t *output);

#if EL_KERNELS_HAVE_DSP
el_status el_fully_connected_s8_dsp(const el_fc_params *params, const el_requant *rq,
                                    int32_t batches, int32_t accum_depth, int32_t out_depth,
                                    const int8_t *input, const int8_t *weights,
                                    const int32_t *bias, int8_t *output);
el_status el_conv_s8_dsp(const el_conv_params *params, const el_requant *rq,
                         const el_dims *in_dims, const int8_t *input,
                         const el_dims *filter_dims, const int8_t *filter,
                         const int32_t *bias,
                         const el_dims *out_dims, int8_t *output);
el_status el_depthwise_conv_s8_dsp(const el_conv_params *params, const el_requant *rq,
                                   const el_dims *in_dims, const int8_t *input,
                                   const el_dims *filter_dims, const int8_t *filter,
                                   const int32_t *bias,
                                   const el_dims *out_dims, int8_t *output);
el_status el_maxpool_s8_dsp(const el_pool_params *params,
                            const el_dims *in_dims, const int8_t *input,
                            const el_dims *out_dims, int8_t *output);
#endif

#endif /* EL_KERNEL_PATHS_H */
