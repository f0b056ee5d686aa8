/* qr.c — terminal QR codes with libqrencode (see qr.h). */
#include "cli/qr.h"

#include <errno.h>

#include <qrencode.h>

/* ISO/IEC 18004 asks for a 4-module quiet zone; qrencode's terminal output uses 2, which
 * phone scanners accept, and keeps the code on an 80-column screen. */
#define QR_MARGIN 2

static const char *const full = "\u2588", *const upper = "\u2580", *const lower = "\u2584";

/* Is module (x, y) dark? Outside the symbol is the light quiet zone. */
static int dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->data[y * qr->width + x] & 1;
}

int qr_print_utf8(FILE *f, const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	int size;

	if (!qr)
		return errno ? -errno : -EINVAL;
	size = qr->width + 2 * QR_MARGIN;
	for (int y = -QR_MARGIN; y < qr->width + QR_MARGIN; y += 2) {
		fputs("\033[40;37;1m", f);
		for (int x = -QR_MARGIN; x < size - QR_MARGIN; x++) {
			int top = dark(qr, x, y), bottom = dark(qr, x, y + 1);

			/* Light modules are drawn: white half blocks on the black background. */
			if (top && bottom)
				fputc(' ', f);
			else if (top)
				fputs(lower, f);
			else if (bottom)
				fputs(upper, f);
			else
				fputs(full, f);
		}
		fputs("\033[0m\n", f);
	}
	QRcode_free(qr);
	return ferror(f) ? -EIO : 0;
}
