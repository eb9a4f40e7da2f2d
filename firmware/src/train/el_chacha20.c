/** @file el_chacha20.c @brief ChaCha20 block function (RFC 8439). */
#include "train/el_chacha20.h"

#define ROTL32(v, n) (((v) << (n)) | ((v) >> (32 - (n))))

#define QROUND(a, b, c, d)                                                                                             \
    do {                                                                                                               \
        a += b;                                                                                                        \
        d ^= a;                                                                                                        \
        d = ROTL32(d, 16);                                                                                             \
        c += d;                                                                                                        \
        b ^= c;                                                                                                        \
        b = ROTL32(b, 12);                                                                                             \
        a += b;                                                                                                        \
        d ^= a;                                                                                                        \
        d = ROTL32(d, 8);                                                                                              \
        c += d;                                                                                                        \
        b ^= c;                                                                                                        \
        b = ROTL32(b, 7);                                                                                              \
    } while (0)

void el_chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3], uint32_t out[16])
{
    uint32_t s[16];
    uint32_t x[16];
    int i;

    s[0] = 0x61707865u; /* "expand 32-byte k" */
    s[1] = 0x3320646eu;
    s[2] = 0x79622d32u;
    s[3] = 0x6b206574u;
    for (i = 0; i < 8; i++) {
        s[4 + i] = key[i];
    }
    s[12] = counter;
    s[13] = nonce[0];
    s[14] = nonce[1];
    s[15] = nonce[2];
    for (i = 0; i < 16; i++) {
        x[i] = s[i];
    }
    for (i = 0; i < 10; i++) { /* 10 double rounds = 20 rounds */
        QROUND(x[0], x[4], x[8], x[12]);
        QROUND(x[1], x[5], x[9], x[13]);
        QROUND(x[2], x[6], x[10], x[14]);
        QROUND(x[3], x[7], x[11], x[15]);
        QROUND(x[0], x[5], x[10], x[15]);
        QROUND(x[1], x[6], x[11], x[12]);
        QROUND(x[2], x[7], x[8], x[13]);
        QROUND(x[3], x[4], x[9], x[14]);
    }
    for (i = 0; i < 16; i++) {
        out[i] = x[i] + s[i];
    }
}
