/*
 * Lines from stdin into JS (console.ts), on the GLib main loop that Moddable's lin runtime runs: the
 * Linux terminal's keypad, card slot and power switch are JSON lines written by a script or the
 * desktop simulator. A line over LINE_BYTES_MAX is dropped whole (said on stderr); end of input is a
 * call with no line.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xsAll.h"
#include "mc.xs.h"

#define LINE_BYTES_MAX 4096

typedef struct {
	xsMachine *the;
	xsSlot callback;
	int started;
	int overlong;
	size_t length;
	char line[LINE_BYTES_MAX + 1];
} StdinLines;

static StdinLines gStdin;

static void deliver(const char *line)
{
	xsMachine *the = gStdin.the;
	xsBeginHost(the);
	{
		xsTry {
			if (line == NULL)
				xsCallFunction0(gStdin.callback, xsUndefined);
			else
				xsCallFunction1(gStdin.callback, xsUndefined, xsString(line));
		}
		xsCatch {
			fxAbort(the, XS_UNHANDLED_EXCEPTION_EXIT);
		}
	}
	xsEndHost(the);
}

static gboolean onReadable(GIOChannel *channel, GIOCondition condition, gpointer data)
{
	char chunk[LINE_BYTES_MAX];
	ssize_t count = read(STDIN_FILENO, chunk, sizeof(chunk));
	ssize_t i;

	if ((count < 0) && ((errno == EAGAIN) || (errno == EINTR)))
		return TRUE;
	if (count <= 0) {
		if (gStdin.length > 0 && !gStdin.overlong) {
			gStdin.line[gStdin.length] = 0;
			deliver(gStdin.line);
		}
		deliver(NULL);
		return FALSE;
	}
	for (i = 0; i < count; i++) {
		char c = chunk[i];
		if (c == '\n') {
			if (gStdin.overlong)
				fprintf(stderr, "xspos: input line over %d bytes dropped\n", LINE_BYTES_MAX);
			else {
				gStdin.line[gStdin.length] = 0;
				deliver(gStdin.line);
			}
			gStdin.length = 0;
			gStdin.overlong = 0;
		}
		else if (gStdin.length < LINE_BYTES_MAX)
			gStdin.line[gStdin.length++] = c;
		else
			gStdin.overlong = 1;
	}
	return TRUE;
}

/* start(callback): callback(line) for each line, callback() at the end of input. Once per process. */
void xs_xspos_stdin_start(xsMachine *the)
{
	GIOChannel *channel;
	if (gStdin.started)
		xsUnknownError("stdin: already started");
	if (!xsIsInstanceOf(xsArg(0), xsFunctionPrototype))
		xsTypeError("stdin: callback is not a function");
	gStdin.the = the;
	gStdin.callback = xsArg(0);
	xsRemember(gStdin.callback);
	gStdin.started = 1;
	fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL, 0) | O_NONBLOCK);
	channel = g_io_channel_unix_new(STDIN_FILENO);
	g_io_add_watch(channel, G_IO_IN | G_IO_HUP | G_IO_ERR, onReadable, NULL);
	g_io_channel_unref(channel);
}
