/** @file el_crc32.c @brief Table-free CRC-32 (see el_crc32.h). */
#include "el_crc32.h"

uint32_t el_crc32(uint32_t crc, const uint8_t *data, uint32_t len)
{
    uint32_t i;
    int bit;
    crc = ~crc;
    for (i = 0; i < len; i++) {
        crc ^= data[i];
        for (bit = 0; bit < 8; bit++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}
