/**
 * @file fuzz_model.c
 * @brief libFuzzer target: the model artifact loader (engine/el_model.c) and what runs on what it accepts.
 *
 * Input: an artifact (docs/model-format.md). The harness recomputes its CRC (bytes 12..15 over
 * [64, total)) so that mutations reach past the CRC check, copies it into a buffer of exactly its size
 * and gives it an arena of exactly the size its header asks (at most ARENA_MAX), so that AddressSanitizer
 * sees any read or write past either. An artifact the loader accepts is then run (el_model_invoke, every
 * op's kernel on the accepted shapes and parameters) and its HEAD section parsed (el_head_parse), as the
 * device does at boot: the loader's promise is that nothing it accepts makes a kernel misbehave.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "el_fuzz_crc32.h"
#include "engine/el_model.h"
#include "train/el_head.h"

#define HEADER 64u
#define ARENA_MAX 4096u /* keeps a run short: kernels are O(output x window) */

static el_model s_model;

/* The target is linked with -Wl,--wrap=el_crc32: the loader's CRC check runs over the same bytes with a table
 * (the bitwise el_crc32, unit-tested elsewhere, took most of an input's time). */
uint32_t __wrap_el_crc32(uint32_t crc, const uint8_t *data, uint32_t len);

uint32_t __wrap_el_crc32(uint32_t crc, const uint8_t *data, uint32_t len) { return el_fuzz_crc32(crc, data, len); }

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *artifact, *arena;
    uint32_t arena_len = 0, i;
    el_head head;

    if (size > 0xFFFFFFFFu) {
        return 0;
    }
    artifact = (uint8_t *)malloc(size > 0u ? size : 1u); /* malloc is 16-aligned; the loader needs 4 */
    if (artifact == NULL) {
        return 0;
    }
    if (size > 0u) {
        memcpy(artifact, data, size);
    }
    if (size >= HEADER) {
        uint32_t total = rd32(artifact + 8);
        uint32_t crc;
        if (total > size) {
            total = (uint32_t)size;
        }
        crc = total >= HEADER ? el_fuzz_crc32(0u, artifact + HEADER, total - HEADER) : 0u;
        artifact[12] = (uint8_t)crc;
        artifact[13] = (uint8_t)(crc >> 8);
        artifact[14] = (uint8_t)(crc >> 16);
        artifact[15] = (uint8_t)(crc >> 24);
        arena_len = rd32(artifact + 52);
        if (arena_len > ARENA_MAX) {
            arena_len = ARENA_MAX;
        }
    }
    arena = arena_len > 0u ? (uint8_t *)malloc(arena_len) : NULL;
    if (arena_len > 0u && arena == NULL) {
        free(artifact);
        return 0;
    }
    if (arena != NULL) {
        memset(arena, 0, arena_len); /* a tensor read before any op wrote it reads zeros, run after run */
    }
    if (el_model_load(&s_model, artifact, (uint32_t)size, arena, arena_len) == EL_OK) {
        el_tensor *in = el_model_input(&s_model);
        for (i = 0; i < in->size; i++) {
            in->data[i] = (uint8_t)(data[i % size] ^ (uint8_t)(i * 37u));
        }
        (void)el_model_invoke(&s_model);
        if (s_model.head != NULL) {
            (void)el_head_parse(&head, s_model.head, s_model.head_len);
        }
    }
    free(arena);
    free(artifact);
    return 0;
}
