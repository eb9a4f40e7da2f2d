/** @file el_test.h @brief The check macro shared by the files of the firmware test program. */
#ifndef EL_TEST_H
#define EL_TEST_H

/** Count a check; print `EL-TEST FAIL file:line what` when it failed. */
void el_test_check(int ok, const char *file, int line, const char *what);

#define CHECK(expr) el_test_check((expr) ? 1 : 0, __FILE__, __LINE__, #expr)

/** The training tests (test_train.c). */
void el_test_train(void);

/** The training step's vector loops against plain loops (test_f32_vec.c). */
void el_test_f32_vec(void);

/** The discrete Gaussian sampler, the noise grid and the accountant (test_dp.c). */
void el_test_dp(void);

/** The DSP kernels against the reference kernels (test_kernels.c). */
void el_test_kernels(void);

/** Kernel instruction counts for bench/bench_kernels.py; empty unless built with -DEL_BENCH_KERNELS=1 (bench_kernels.c). */
void el_bench_kernels(void);

#endif /* EL_TEST_H */
