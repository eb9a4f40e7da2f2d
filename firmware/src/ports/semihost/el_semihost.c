/** @file el_semihost.c @brief Arm semihosting calls used under QEMU (-semihosting-config enable=on). */
#include "ports/semihost/el_semihost.h"

#define SYS_OPEN 0x01u
#define SYS_CLOSE 0x02u
#define SYS_READ 0x06u
#define SYS_TIME 0x11u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uint32_t semihost_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void el_semihost_exit(int code)
{
    uint32_t block[2];
    block[0] = ADP_STOPPED_APPLICATION_EXIT;
    block[1] = (uint32_t)code;
    for (;;) {
        (void)semihost_call(SYS_EXIT_EXTENDED, block);
    }
}

uint32_t el_semihost_time(void) { return semihost_call(SYS_TIME, 0); }

uint32_t el_semihost_host_random_bytes(uint8_t *out, uint32_t len)
{
    static const char path[] = "/dev/urandom";
    uint32_t open_args[3];
    uint32_t rw_args[3];
    uint32_t handle;
    uint32_t left;

    open_args[0] = (uint32_t)(uintptr_t)path;
    open_args[1] = 1u; /* "rb" */
    open_args[2] = sizeof(path) - 1u;
    handle = semihost_call(SYS_OPEN, open_args);
    if (handle == 0xFFFFFFFFu) {
        return 0;
    }
    rw_args[0] = handle;
    rw_args[1] = (uint32_t)(uintptr_t)out;
    rw_args[2] = len;
    left = semihost_call(SYS_READ, rw_args); /* bytes NOT read */
    (void)semihost_call(SYS_CLOSE, &handle);
    return left == 0 ? 1u : 0u;
}

uint32_t el_semihost_host_random(uint32_t *out)
{
    uint8_t b[4];
    if (!el_semihost_host_random_bytes(b, sizeof(b))) {
        return 0;
    }
    *out = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
    return 1u;
}
