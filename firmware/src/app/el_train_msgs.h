/**
 * @file el_train_msgs.h
 * @brief Message types and error codes of on-device training (docs/protocol.md), beside el_packet.h's.
 */
#ifndef EL_TRAIN_MSGS_H
#define EL_TRAIN_MSGS_H

enum {
    EL_MSG_CONFIGURE = 0x05,
    EL_MSG_LOAD_WEIGHTS = 0x06,
    EL_MSG_SAMPLE = 0x07,
    EL_MSG_CLEAR_SAMPLES = 0x08,
    EL_MSG_TRAIN = 0x09,
    EL_MSG_SENSE = 0x0A,
    EL_MSG_RESEND = 0x0B, /**< u16 seq of a TRAIN, u16 length, u32 offset: that part of its UPDATE again */
    EL_MSG_PART = 0x8B,   /**< u32 total length, u32 offset, then the bytes of the resent reply */
    EL_MSG_UPDATE = 0x89
};

enum {
    EL_E_CONFIG = 7,  /**< a configuration value is out of range */
    EL_E_FLOOR = 8,   /**< weaker than the build's privacy floor */
    EL_E_SEED = 9,    /**< a seed sent to a build not marked for testing */
    EL_E_FULL = 10,   /**< the sample store is full */
    EL_E_STATE = 11,  /**< the request does not fit the device's state */
    EL_E_BUDGET = 12, /**< the release would exceed the privacy budget */
    EL_E_ENTROPY = 13 /**< noise asked of a device with a weak entropy source */
};

#endif /* EL_TRAIN_MSGS_H */
