/**
 * @file el_port_arduino.cpp
 * @brief el_port.h over the Arduino core's Serial (USB CDC on the Nano 33 BLE, Pico, ESP32-S3;
 *        ST-Link VCP on the Nucleo). Built only by the registry envs (nano33ble, pico, esp32s3,
 *        nucleo-f446re), which need PlatformIO registry access: `pio run -e nano33ble -t upload`.
 *
 * Ticks: micros() (1 MHz). Boot id: esp_random() on ESP32; elsewhere micros() after the USB
 * host opened the port, mixed with analogRead(A0) noise; it differs between resets in
 * practice, not by guarantee. Reset: the core's NVIC_SystemReset() on Cortex-M, esp_restart()
 * on ESP32. Entropy (training PRNG key): the nRF52840's RNG peripheral (bias correction on) on the
 * Nano 33 BLE, esp_fill_random() on ESP32 (a true RNG while the radio or the bootloader RNG source
 * runs), rp2040.hwrand32() on the arduino-pico core; elsewhere (Nucleo, mbed Pico) a weak fallback:
 * micros() jitter and analogRead(A0) noise folded through a 32-bit mixer, reported as weak
 * (el_port_entropy() returns 0). Not built offline: checked only where the registry is available.
 * Stack high-water mark and static RAM are not measured on these ports (0).
 *
 * Sensor mode (SENSE): on the Nano 33 BLE Sense the on-board IMU (BMI270 on rev2 through
 * Arduino_BMI270_BMM150, LSM9DS1 on rev1 through Arduino_LSM9DS1; whichever library the env
 * provides) gives 6 channels: acceleration x/y/z in g, then angular rate x/y/z in deg/s, read
 * at the IMU's output rate (each read waits for a fresh accelerometer and gyroscope sample).
 * Other boards have no sensor and answer SENSE with E_STATE.
 */
#include <Arduino.h>

#include "app/el_app.h"
#include "app/el_port.h"

#if defined(ARDUINO_ARCH_ESP32)
#include <bootloader_random.h>
#include <esp_system.h>
#elif defined(NRF52840_XXAA)
#include <nrf.h>
#endif

#ifndef EL_SENSOR_TIMEOUT_MS
#define EL_SENSOR_TIMEOUT_MS 1000
#endif

#if __has_include(<Arduino_BMI270_BMM150.h>)
#include <Arduino_BMI270_BMM150.h>
#define EL_HAVE_IMU 1
#elif __has_include(<Arduino_LSM9DS1.h>)
#include <Arduino_LSM9DS1.h>
#define EL_HAVE_IMU 1
#endif

#ifndef EL_SERIAL_BAUD
#define EL_SERIAL_BAUD 115200
#endif

static uint32_t s_boot_id;

__attribute__((unused)) static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

#if defined(NRF52840_XXAA) && !defined(ARDUINO_ARCH_ESP32)
static uint8_t nrf_rng_byte(void)
{
    NRF_RNG->EVENTS_VALRDY = 0;
    while (NRF_RNG->EVENTS_VALRDY == 0) {
    }
    return (uint8_t)NRF_RNG->VALUE;
}
#endif

extern "C" {

void el_port_init(void)
{
    Serial.begin(EL_SERIAL_BAUD);
    while (!Serial) {
        /* USB CDC: wait for the host to open the port */
    }
#if defined(ARDUINO_ARCH_ESP32)
    s_boot_id = esp_random();
#else
    uint32_t seed = micros();
    for (int i = 0; i < 8; i++) {
        seed = mix32(seed ^ (uint32_t)analogRead(A0) ^ micros());
    }
    s_boot_id = seed;
#endif
}

int el_port_entropy(uint8_t *buf, size_t len)
{
#if defined(ARDUINO_ARCH_ESP32)
    /* esp_fill_random is only a true RNG while the RF subsystem or the bootloader's entropy source runs */
    bootloader_random_enable();
    esp_fill_random(buf, len);
    bootloader_random_disable();
    return EL_ENTROPY_HARDWARE;
#elif defined(NRF52840_XXAA)
    NRF_RNG->CONFIG = 1; /* DERCEN: bias correction */
    NRF_RNG->TASKS_START = 1;
    for (size_t i = 0; i < len; i++) {
        buf[i] = nrf_rng_byte();
    }
    NRF_RNG->TASKS_STOP = 1;
    return EL_ENTROPY_HARDWARE;
#elif defined(ARDUINO_ARCH_RP2040) && !defined(ARDUINO_ARCH_MBED)
    for (size_t i = 0; i < len; i += 4) {
        uint32_t w = rp2040.hwrand32();
        for (size_t k = 0; k < 4 && i + k < len; k++) {
            buf[i + k] = (uint8_t)(w >> (8 * k));
        }
    }
    return EL_ENTROPY_HARDWARE;
#else
    uint32_t x = mix32(micros() ^ s_boot_id);
    for (size_t i = 0; i < len; i++) {
        for (int r = 0; r < 32; r++) { /* timing jitter of the ADC conversions accumulates in x */
            x = mix32(x ^ (uint32_t)analogRead(A0) ^ (micros() << 16));
        }
        buf[i] = (uint8_t)x;
    }
    return EL_ENTROPY_WEAK;
#endif
}

void el_port_write(const uint8_t *buf, size_t len) { Serial.write(buf, len); }

int el_port_read_byte(void)
{
    while (Serial.available() <= 0) {
        yield();
    }
    return Serial.read();
}

uint32_t el_port_ticks(void) { return micros(); }

uint32_t el_port_tick_hz(void) { return 1000000u; }

uint32_t el_port_boot_id(void) { return s_boot_id; }

void el_port_reset(void)
{
    Serial.flush();
    delay(10);
#if defined(ARDUINO_ARCH_ESP32)
    esp_restart();
#else
    NVIC_SystemReset();
#endif
    for (;;) {
    }
}

uint32_t el_port_stack_high_water(void) { return 0; }

uint32_t el_port_stack_size(void) { return 0; }

uint32_t el_port_static_ram(void) { return 0; }

void el_port_exit(int code)
{
    (void)code;
    Serial.flush();
    for (;;) {
        yield();
    }
}

} /* extern "C" */

void setup()
{
    el_port_init();
    el_app_init();
}

void loop()
{
    while (Serial.available() > 0) {
        el_app_feed((uint8_t)Serial.read());
    }
}

int el_port_sensor_read(float *out, int max_channels)
{
#if defined(EL_HAVE_IMU)
    static int s_imu_state; /* 0 not started, 1 running, -1 absent */
    if (s_imu_state == 0) {
        s_imu_state = IMU.begin() ? 1 : -1;
    }
    if (s_imu_state < 0 || max_channels < 6) {
        return 0;
    }
    const uint32_t start = millis();
    while (!IMU.accelerationAvailable() || !IMU.gyroscopeAvailable()) {
        if (millis() - start > (uint32_t)(EL_SENSOR_TIMEOUT_MS)) {
            return 0; /* the sensor stopped answering: SENSE fails with E_STATE */
        }
    }
    IMU.readAcceleration(out[0], out[1], out[2]);
    IMU.readGyroscope(out[3], out[4], out[5]);
    return 6;
#else
    (void)out;
    (void)max_channels;
    return 0;
#endif
}
