/**
 * @file el_chacha20.h
 * @brief The ChaCha20 block function (RFC 8439, section 2.3): 20 rounds, 32-bit counter, 96-bit nonce.
 */
#ifndef EL_CHACHA20_H
#define EL_CHACHA20_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * One 64-byte keystream block as 16 words.
 *
 * @param key     8 words: the 256-bit key read as little-endian words (key bytes 4i..4i+3 -> key[i])
 * @param counter block counter (state word 12)
 * @param nonce   3 words: the 96-bit nonce read as little-endian words (state words 13..15)
 * @param out     16 words: the final state (rounds + initial state); serialised little-endian it is
 *                the keystream block of RFC 8439
 */
void el_chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3], uint32_t out[16]);

#ifdef __cplusplus
}
#endif

#endif /* EL_CHACHA20_H */
