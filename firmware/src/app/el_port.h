/**
 * @file el_port.h
 * @brief The porting surface: what a board supplies to the portable core.
 *
 * One implementation per board, each in its own folder (ports/mps2/,
 * ports/arduino/, ../host/). Everything else is portable C99.
 */
#ifndef EL_PORT_H
#define EL_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bring up the link (UART, pty, Serial) and the tick counter. */
void el_port_init(void);

/** Write len bytes to the link; blocks until they are queued. */
void el_port_write(const uint8_t *buf, size_t len);

/** Block until a byte arrives: 0..255, or -1 when the link is gone for good (host EOF). */
int el_port_read_byte(void);

/** Free-running tick counter (wraps at 2^32); el_port_tick_hz() ticks per second. */
uint32_t el_port_ticks(void);
uint32_t el_port_tick_hz(void);

/** A value that changes at every reset (see each port for its source). */
uint32_t el_port_boot_id(void);

/** Where el_port_entropy() took its bytes (INFO reports it). */
enum {
    EL_ENTROPY_WEAK = 0,     /**< a fallback: timers, boot counters, analog noise */
    EL_ENTROPY_HARDWARE = 1, /**< the MCU's true random number generator */
    EL_ENTROPY_OS = 2,       /**< the operating system's CSPRNG (host board) */
    EL_ENTROPY_EMULATOR = 3  /**< the emulator's host (QEMU semihosting): functional tests only */
};

/**
 * Fill buf[0..len) from the board's entropy source (the training PRNG key); buf is filled either way.
 * @return EL_ENTROPY_*: the source the bytes came from
 */
int el_port_entropy(uint8_t *buf, size_t len);

/** Reset the device; the boot id changes. Does not return. */
void el_port_reset(void);

/** Deepest stack use since boot, in bytes, and the stack size (0 when unknown). */
uint32_t el_port_stack_high_water(void);
uint32_t el_port_stack_size(void);

/** .data + .bss in bytes, 0 when unknown. */
uint32_t el_port_static_ram(void);

/** End the program with an exit code (test programs; QEMU through semihosting). */
void el_port_exit(int code);

/**
 * @brief Sensor mode: read one reading of the board's own sensor into out[0..channels).
 * @return channels written (e.g. 6: accelerometer x/y/z in g, gyroscope x/y/z in deg/s), or 0 when the
 *         board has no sensor or no reading came within EL_SENSOR_TIMEOUT_MS (default 1000).
 */
int el_port_sensor_read(float *out, int max_channels);

#ifdef __cplusplus
}
#endif

#endif /* EL_PORT_H */
