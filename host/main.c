/**
 * @file main.c
 * @brief The host board: the firmware core as a POSIX program.
 *
 *   program            open a pseudo-terminal, print "PTY /dev/pts/N" as the first line of stdout
 *   program --stdio    speak the protocol over stdin/stdout
 *
 * RESET re-initialises the application in place (longjmp back here) with a new boot id.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "app/el_app.h"
#include "app/el_port.h"
#include "el_host.h"

static jmp_buf s_reset;

static void on_reset(void) { longjmp(s_reset, 1); }

int main(int argc, char **argv)
{
    int stdio_link = 0;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--stdio") == 0) {
            stdio_link = 1;
        } else {
            fprintf(stderr, "usage: %s [--stdio]\n", argv[0]);
            return 2;
        }
    }
    if (stdio_link) {
        el_host_use_stdio();
    } else {
        const char *name = el_host_open_pty();
        if (name == NULL) {
            perror("edgeleak host board: cannot open a pseudo-terminal");
            return 1;
        }
        printf("PTY %s\n", name);
        fflush(stdout);
    }
    el_port_init();
    el_host_set_reset_point(on_reset);
    (void)setjmp(s_reset);
    el_app_init();
    el_app_run();
    return 0;
}
