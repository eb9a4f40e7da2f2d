/**
 * @file el_port_arduino.cpp
 * @brief el_port.h over the Arduino core's Serial (USB CDC on the Nano 33 BLE, Pico, ESP32-S3;
 *        ST-Link VCP on the Nucleo). Built only by the registry envs (nano33ble, pico, esp32s3,
 *        nucleo-f446re), which need PlatformIO registry access: `pio run -e nano33ble -t upload`.
 *
 * Ticks: micros() (1 MHz). Boot id: esp_random() on ESP32; elsewhere micros() after the USB
 * host opened the port, mixed with analogRead(A0) noise; it differs between resets in
 * practice, not by guarantee. Reset: the core's NVIC_SystemReset() on Cortex-M, esp_restart()
 * on ESP32. Stack high-water mark and static RAM are not measured on these ports (0).
 */
#include <Arduino.h>

#include "app/el_app.h"
#include "app/el_port.h"

#if defined(ARDUINO_ARCH_ESP32)
#include <esp_system.h>
#endif

#ifndef EL_SERIAL_BAUD
#define EL_SERIAL_BAUD 115200
#endif

static uint32_t s_boot_id;

#if !defined(ARDUINO_ARCH_ESP32)
static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
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
