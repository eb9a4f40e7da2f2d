/**
 * @file el_fuzz_crc32.h
 * @brief CRC-32 with a table, for the fuzz harnesses: to frame inputs, to check replies, and in place of the core's
 *        bitwise el_crc32 (engine/el_crc32.c) through -Wl,--wrap=el_crc32, over the same bytes.
 */
#ifndef EL_FUZZ_CRC32_H
#define EL_FUZZ_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** CRC-32 (IEEE 802.3, as zlib's crc32) of data[0..len), continuing from crc (0 to start). */
uint32_t el_fuzz_crc32(uint32_t crc, const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* EL_FUZZ_CRC32_H */
