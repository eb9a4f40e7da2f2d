/**
 * @file el_fuzz_port.h
 * @brief The fuzzing board: app/el_port.h for a libFuzzer process, and the checks it makes on every reply.
 *
 * The device core runs unchanged; this port replaces the serial line:
 *   - el_port_write() receives one whole reply frame per call (el_tx) and checks it: COBS, length, CRC,
 *     version, a reply type, an ERROR code of the table, chunks of one message back to back with the
 *     same type and sequence number, and the structure of every UPDATE body (docs/protocol.md). A
 *     malformed reply aborts the process: libFuzzer reports it as a crash with its input.
 *   - el_port_read_byte() is never called (the harness feeds bytes with el_app_feed()).
 *   - ticks advance by a fixed step per call, the boot id by one per reset, entropy is a fixed pattern.
 *   - el_port_reset() longjmps to the harness, which re-initialises the core in place (as the host board).
 *   - the sensor (SENSE) is absent, or a 6-axis sensor with deterministic readings, which may stop answering.
 */
#ifndef EL_FUZZ_PORT_H
#define EL_FUZZ_PORT_H

#include <setjmp.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What the fuzzed board is like, chosen per input. */
typedef struct {
    int entropy;             /**< EL_ENTROPY_* that el_port_entropy() reports */
    int sensor_channels;     /**< channels per sensor reading; 0: no sensor */
    uint32_t sensor_readings; /**< readings before the sensor stops answering; 0: it never stops */
} el_fuzz_board;

/** Start one input: the board, and where el_port_reset() jumps (setjmp'd by the harness). */
void el_fuzz_port_start(const el_fuzz_board *board, jmp_buf *on_reset);

/** End one input: aborts when a reply was left half-sent (MORE set on the last frame written). */
void el_fuzz_port_finish(void);

/** Reply frames written since el_fuzz_port_start(). */
uint32_t el_fuzz_port_frames(void);

#ifdef __cplusplus
}
#endif

#endif /* EL_FUZZ_PORT_H */
