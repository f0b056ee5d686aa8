/* qr.h — a QR code on a terminal, as `qrencode -t ansiutf8` draws it: two modules per
 * character cell with the half blocks U+2580/U+2584, light modules drawn (white on black). */
#ifndef PODWIRE_CLI_QR_H
#define PODWIRE_CLI_QR_H

#include <stdio.h>

/* Encode @text (8-bit mode, error correction level L) and draw it to @f. 0 or -errno. */
int qr_print_utf8(FILE *f, const char *text);

#endif
