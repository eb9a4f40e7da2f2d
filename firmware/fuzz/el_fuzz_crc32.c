/** @file el_fuzz_crc32.c @brief Table-driven CRC-32 for the fuzz harnesses (el_fuzz_crc32.h). */
#include "el_fuzz_crc32.h"

uint32_t el_fuzz_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    static uint32_t table[256];
    size_t i;
    if (table[1] == 0u) {
        uint32_t n, c;
        int k;
        for (n = 0; n < 256u; n++) {
            for (c = n, k = 0; k < 8; k++) {
                c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
            }
            table[n] = c;
        }
    }
    crc = ~crc;
    for (i = 0; i < len; i++) {
        crc = table[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
    }
    return ~crc;
}
