/**
 * @file el_cortex_m.h
 * @brief What every bare-metal Cortex-M port shares (ports/mps2, ports/stm32f4): the system control space, start-up,
 *        SysTick time, the warm-reset boot counter, reset, and the stack figures of el_port.h.
 */
#ifndef EL_CORTEX_M_H
#define EL_CORTEX_M_H

#include <stdint.h>

#define EL_REG(addr) (*(volatile uint32_t *)(addr))

/* System control space (ARMv7-M) */
#define SYST_CSR EL_REG(0xE000E010u)
#define SYST_RVR EL_REG(0xE000E014u)
#define SYST_CVR EL_REG(0xE000E018u)
#define SCB_ICSR EL_REG(0xE000ED04u)
#define SCB_AIRCR EL_REG(0xE000ED0Cu)
#define SCB_CPACR EL_REG(0xE000ED88u)

/** Exit code of a fault (QEMU builds end with it through semihosting). */
#define EL_FAULT_EXIT_CODE 3

/** Reset: enable the FPU (hard-float builds), copy .data, zero .bss, paint the stack for its high-water mark.
 *  Called first from each port's reset handler, before any float instruction. */
void el_cm_startup(void);

/** SysTick on the processor clock, free running, its wraps counted in software. */
void el_cm_systick_start(void);

/** SysTick ticks since el_cm_systick_start, extended to 32 bits. */
uint32_t el_cm_ticks(void);

/** The SysTick exception (in each port's vector table). */
void el_systick_handler(void);

/** NVIC_SystemReset: AIRCR.SYSRESETREQ; does not return. */
void el_cm_reset(void) __attribute__((noreturn));

/** Count this boot in a counter kept in .noinit (survives a warm reset) and return the new count. */
uint32_t el_cm_count_boot(void);

/** The boot count el_cm_count_boot last returned. */
uint32_t el_cm_boot_count(void);

/** A bijective 32-bit mixing function. */
uint32_t el_cm_mix32(uint32_t x);

/** Print the fault line with ``putc``. */
void el_cm_fault_line(void (*putc)(uint8_t));

#endif /* EL_CORTEX_M_H */
