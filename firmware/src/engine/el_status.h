/** @file el_status.h @brief Status codes shared by kernels, the model loader and the protocol. */
#ifndef EL_STATUS_H
#define EL_STATUS_H

typedef enum {
    EL_OK = 0,
    EL_ERR_ARG,          /**< a kernel argument is out of range */
    EL_ERR_MAGIC,        /**< not an ELMA artifact */
    EL_ERR_VERSION,      /**< unsupported format version */
    EL_ERR_CRC,          /**< artifact CRC mismatch */
    EL_ERR_BOUNDS,       /**< a count, offset or size is out of bounds */
    EL_ERR_UNSUPPORTED,  /**< unknown opcode or tensor type */
    EL_ERR_ARENA,        /**< the arena is too small */
    EL_ERR_SHAPE         /**< tensor shapes do not fit the op */
} el_status;

#endif /* EL_STATUS_H */
