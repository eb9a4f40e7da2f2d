/**
 * @file el_semihost.h
 * @brief Arm semihosting calls of the emulated ports (QEMU with -semihosting-config enable=on,target=native).
 *
 * Never linked into an image for a real board: without a debugger attached, `bkpt 0xab` is a HardFault.
 */
#ifndef EL_SEMIHOST_H
#define EL_SEMIHOST_H

#include <stdint.h>

/** Semihosting SYS_EXIT_EXTENDED: ends QEMU with this exit code. */
void el_semihost_exit(int code) __attribute__((noreturn));
/** Semihosting SYS_TIME: host seconds since 1970. */
uint32_t el_semihost_time(void);

/** Semihosting SYS_OPEN/READ of the host's /dev/urandom: 1 and *out set on success, else 0. */
uint32_t el_semihost_host_random(uint32_t *out);

/** Semihosting SYS_OPEN/READ of len bytes of the host's /dev/urandom: 1 on success, else 0. */
uint32_t el_semihost_host_random_bytes(uint8_t *out, uint32_t len);

#endif /* EL_SEMIHOST_H */
