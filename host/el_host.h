/** @file el_host.h @brief Link selection of the host board (POSIX port). */
#ifndef EL_HOST_H
#define EL_HOST_H

/** Speak over stdin/stdout (binary). The default when el_host_open_pty() is not called. */
void el_host_use_stdio(void);

/** Open a pseudo-terminal in raw mode and return its slave path, or NULL on failure. */
const char *el_host_open_pty(void);

/** Where el_port_reset() returns to: main() re-initialises the application from here. */
void el_host_set_reset_point(void (*on_reset)(void));

#endif /* EL_HOST_H */
