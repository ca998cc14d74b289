/*
 * The process around the XS machine of every x-cli-lin build of xspos (the native terminal, the device
 * test app): mcconfig's x-cli-lin makefile links the XS engine, mc.xs.c and the app's C but no main
 * (../shared/vendor/README.md (b)). This creates the machine with the sizes xsl recorded in mc.xs.c
 * (the app manifest's `creation`, no growth on the terminal: memory that would not fit the board aborts
 * here too), imports `creation.main`, calls its default export like the device runtime does, and runs
 * the GLib main loop that Moddable's lin timers and promise jobs use until JS calls exit().
 */
#include "xsAll.h"
#include "mc.xs.h"
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#define XSPOS_ARGS_MAX 64

static GMainLoop *gLoop = NULL;
static int gExitStatus = 0;
/* exit() was called: also before the main loop runs (g_main_loop_run would forget an earlier quit and run on). */
static int gExiting = 0;
static int gArgc = 0;
static char **gArgv = NULL;

void fxAbort(xsMachine *the, int status)
{
	// An XS abort (out of chunk or slots, stack overflow, unhandled exception) ends the process: the
	// terminal restarts from flash as after a power cut, and the exit status tells scripts what happened.
	fprintf(stderr, "xspos: XS abort: %s\n", fxAbortString(status));
	if ((status == XS_UNHANDLED_EXCEPTION_EXIT) || (status == XS_UNHANDLED_REJECTION_EXIT)) {
		xsTry {
			fprintf(stderr, "xspos: %s\n", xsToString(xsException));
		}
		xsCatch {
		}
	}
	fflush(stdout);
	exit(70 + (status & 0x0f));
}

const void *mcGetResource(xsMachine *the, char *path, size_t *size)
{
	// No resources in these apps (files/resource comes with manifest_base).
	*size = 0;
	return NULL;
}

/* exit(status): leaves the main loop; main() then deletes the machine and returns status. */
void xs_xspos_lin_exit(xsMachine *the)
{
	int status = xsToInteger(xsArg(0));
	if ((status < 0) || (status > 255))
		xsRangeError("exit status %d: not 0..255", status);
	gExitStatus = status;
	gExiting = 1;
	fflush(stdout);
	g_main_loop_quit(gLoop);
}

/* argv(): the command-line arguments after the program name, as strings. */
void xs_xspos_lin_argv(xsMachine *the)
{
	int i;
	xsResult = xsNewArray(0);
	for (i = 1; (i < gArgc) && (i <= XSPOS_ARGS_MAX); i++)
		xsCall1(xsResult, xsID_push, xsString(gArgv[i]));
}

/*
 * memory(): the XS machine's chunk bytes and heap slots live now (after a collection), their peaks since the
 * previous call (then reset to what is live), and the creation sizes they may reach.
 */
void xs_xspos_lin_memory(xsMachine *the)
{
	txSize chunkPeak = the->peakChunksSize, heapPeak = the->peakHeapCount;
	xsCollectGarbage();
	xsVars(1);
	xsResult = xsNewObject();
	xsVar(0) = xsInteger((xsIntegerValue)the->currentChunksSize);
	xsSet(xsResult, xsID_chunkBytes, xsVar(0));
	xsVar(0) = xsInteger((xsIntegerValue)chunkPeak);
	xsSet(xsResult, xsID_chunkBytesPeak, xsVar(0));
	xsVar(0) = xsInteger((xsIntegerValue)the->maximumChunksSize);
	xsSet(xsResult, xsID_chunkBytesMax, xsVar(0));
	xsVar(0) = xsInteger((xsIntegerValue)the->currentHeapCount);
	xsSet(xsResult, xsID_heapSlots, xsVar(0));
	xsVar(0) = xsInteger((xsIntegerValue)heapPeak);
	xsSet(xsResult, xsID_heapSlotsPeak, xsVar(0));
	xsVar(0) = xsInteger((xsIntegerValue)the->maximumHeapCount);
	xsSet(xsResult, xsID_heapSlotsMax, xsVar(0));
	the->peakChunksSize = the->currentChunksSize;
	the->peakHeapCount = the->currentHeapCount;
}

int main(int argc, char *argv[])
{
	txPreparation *preparation = xsPreparation();
	xsMachine *machine;
	int status = 0;

	if (argc - 1 > XSPOS_ARGS_MAX) {
		fprintf(stderr, "xspos: at most %d arguments\n", XSPOS_ARGS_MAX);
		return 2;
	}
	gArgc = argc;
	gArgv = argv;
	// stdout carries JSON lines and test reports: line-buffered even into a pipe.
	setvbuf(stdout, NULL, _IOLBF, 0);
	gLoop = g_main_loop_new(NULL, FALSE);
	machine = fxPrepareMachine(NULL, preparation, "xspos", NULL, NULL);
	if (machine == NULL) {
		fprintf(stderr, "xspos: cannot create the XS machine\n");
		return 1;
	}
	xsBeginHost(machine);
	{
		xsVars(2);
		xsTry {
			xsVar(0) = xsAwaitImport(preparation->main, XS_IMPORT_NAMESPACE);
			xsVar(1) = xsGet(xsVar(0), xsID_default);
			if (xsIsInstanceOf(xsVar(1), xsFunctionPrototype))
				xsCallFunction0(xsVar(1), xsUndefined);
		}
		xsCatch {
			xsStringValue message = xsToString(xsException);
			fprintf(stderr, "xspos: %s: %s\n", preparation->main, message);
			status = 1;
		}
	}
	xsEndHost(machine);
	if (status == 0) {
		// An exit during main() (a restart at boot: an update's rollback, an activation done again) skips the loop.
		if (!gExiting)
			g_main_loop_run(gLoop);
		status = gExitStatus;
	}
	xsDeleteMachine(machine);
	g_main_loop_unref(gLoop);
	return status;
}
