/**
 * @file el_app.h
 * @brief The device main loop: answers HELLO, INFER, STATS and RESET (docs/protocol.md).
 *
 * A port's entry point calls el_port_init(), el_app_init(), then either
 * el_app_run() (blocking ports) or el_app_feed() for every received byte.
 */
#ifndef EL_APP_H
#define EL_APP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Load the model and reset the link state. Call again after a soft reset. */
void el_app_init(void);

/** Handle one received byte; replies are written with el_port_write(). */
void el_app_feed(uint8_t byte);

/** Read and handle bytes until el_port_read_byte() reports the link closed. */
void el_app_run(void);

#ifdef __cplusplus
}
#endif

#endif /* EL_APP_H */
