/**
 * @file el_port_posix.c
 * @brief el_port.h for the host board: the firmware core as a POSIX program.
 *
 * Link: a pseudo-terminal in raw mode (default of main.c) or stdin/stdout.
 * Ticks: CLOCK_MONOTONIC in microseconds (1 MHz), counted from boot.
 * Boot id: 4 bytes from /dev/urandom at every boot and reset.
 * Entropy (training PRNG key): /dev/urandom; clock and pid mixed in only if it cannot be read.
 * Reset: the application is re-initialised in the same process (the pty and
 * its path stay, so the host does not need to reconnect); the boot id changes.
 * Stack high-water mark and static RAM are not measured on the host (0).
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include "app/el_port.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "el_host.h"

static int s_in = 0;
static int s_out = 1;
static int s_slave = -1; /* kept open so the master never sees EIO between host connections */
static uint8_t s_rbuf[4096];
static size_t s_rlen, s_rpos;
static uint64_t s_boot_us;
static uint32_t s_boot_id;
static void (*s_on_reset)(void);

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void new_boot(void)
{
    uint32_t id = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, &id, sizeof(id)) != (ssize_t)sizeof(id)) {
            id = 0;
        }
        close(fd);
    }
    if (id == 0) {
        id = (uint32_t)now_us() ^ ((uint32_t)getpid() << 16);
    }
    s_boot_id = id;
    s_boot_us = now_us();
}

void el_host_use_stdio(void)
{
    s_in = 0;
    s_out = 1;
}

const char *el_host_open_pty(void)
{
    struct termios tio;
    const char *name;
    int master = posix_openpt(O_RDWR | O_NOCTTY);

    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 || (name = ptsname(master)) == NULL) {
        return NULL;
    }
    s_slave = open(name, O_RDWR | O_NOCTTY);
    if (s_slave < 0 || tcgetattr(s_slave, &tio) != 0) {
        return NULL;
    }
    cfmakeraw(&tio);
    if (tcsetattr(s_slave, TCSANOW, &tio) != 0) {
        return NULL;
    }
    s_in = master;
    s_out = master;
    return name;
}

void el_host_set_reset_point(void (*on_reset)(void)) { s_on_reset = on_reset; }

void el_port_init(void)
{
    new_boot();
    s_rlen = s_rpos = 0;
}

void el_port_write(const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(s_out, buf, len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            exit(2);
        }
        buf += n;
        len -= (size_t)n;
    }
}

int el_port_read_byte(void)
{
    while (s_rpos >= s_rlen) {
        ssize_t n = read(s_in, s_rbuf, sizeof(s_rbuf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        s_rlen = (size_t)n;
        s_rpos = 0;
    }
    return s_rbuf[s_rpos++];
}

int el_port_entropy(uint8_t *buf, size_t len)
{
    size_t got = 0;
    const char *mode = getenv("EL_HOST_ENTROPY"); /* "weak": play a board without a hardware RNG */
    int fd = (mode != NULL && mode[0] == 'w') ? -1 : open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        while (got < len) {
            ssize_t n = read(fd, buf + got, len - got);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            got += (size_t)n;
        }
        close(fd);
    }
    if (got == len) {
        return EL_ENTROPY_OS;
    }
    {
        uint64_t x = now_us() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ull;
        size_t i;
        for (i = got; i < len; i++) { /* splitmix64: weak, only when /dev/urandom is unreadable */
            uint64_t z = (x += 0x9E3779B97F4A7C15ull);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            buf[i] = (uint8_t)((z ^ (z >> 31)) >> 24);
        }
    }
    return EL_ENTROPY_WEAK;
}

uint32_t el_port_ticks(void) { return (uint32_t)(now_us() - s_boot_us); }

uint32_t el_port_tick_hz(void) { return 1000000u; }

uint32_t el_port_boot_id(void) { return s_boot_id; }

void el_port_reset(void)
{
    if (s_out != 1) {
        tcdrain(s_out);
    }
    new_boot();
    if (s_on_reset != NULL) {
        s_on_reset(); /* does not return */
    }
    exit(0);
}

uint32_t el_port_stack_high_water(void) { return 0; }

uint32_t el_port_stack_size(void) { return 0; }

uint32_t el_port_static_ram(void) { return 0; }

void el_port_exit(int code)
{
    fflush(stdout);
    exit(code);
}

int el_port_sensor_read(float *out, int max_channels)
{
    (void)out;
    (void)max_channels;
    return 0; /* the host board has no sensor: samples come over the link (SAMPLE) */
}
