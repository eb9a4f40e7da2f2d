/** @file el_crc32.h @brief CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320), as zlib's crc32(). */
#ifndef EL_CRC32_H
#define EL_CRC32_H

#include <stdint.h>

/**
 * Update a CRC-32 with len bytes. Start with crc = 0; chaining is allowed:
 * el_crc32(el_crc32(0, a, n), b, m) == CRC of a followed by b.
 * Bitwise (no table): about 8 shifts per byte, no RAM, 0 bytes of tables.
 */
uint32_t el_crc32(uint32_t crc, const uint8_t *data, uint32_t len);

#endif /* EL_CRC32_H */
