// SPDX-License-Identifier: GPL-2.0
/*
 * e9cat: copy standard input to I/O port 0xe9.
 *
 * Bochs's serial port runs at a few hundred bytes per second of wall
 * time, so test output under Bochs goes out through its "port e9 hack"
 * instead, which hands every byte written to port 0xe9 to Bochs's standard
 * output at once.  Needs CAP_SYS_RAWIO (the initramfs runs as root).
 */
#include <stdio.h>
#include <sys/io.h>
#include <unistd.h>

#define E9_PORT 0xe9

int main(void)
{
	unsigned char buf[4096];
	ssize_t n;

	if (ioperm(E9_PORT, 1, 1)) {
		perror("e9cat: ioperm");
		return 1;
	}
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			outb(buf[i], E9_PORT);
	}
	return n < 0;
}
