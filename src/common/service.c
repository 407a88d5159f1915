#include "service.h"

#include <signal.h>
#include <stdatomic.h>
#include <time.h>

/* Lock-free, so the signal handler may set it and any thread may read it. */
static atomic_int stop_requested;

static void on_stop_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
}

void service_install_signals(void)
{
    struct sigaction action = {0};

    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void service_request_stop(void)
{
    stop_requested = 1;
}

int service_stop_requested(void)
{
    return stop_requested;
}

void service_wait_for_stop(void)
{
    struct timespec pause = {0, 100 * 1000 * 1000};

    while (!stop_requested)
        nanosleep(&pause, NULL);
}
