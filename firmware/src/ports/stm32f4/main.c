/** @file main.c @brief Entry point of the STM32F4 firmware. */
#include "app/el_app.h"
#include "app/el_port.h"

int main(void)
{
    el_port_init();
    el_app_init();
    el_app_run();
    return 0;
}
