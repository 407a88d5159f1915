#include "service.h"

#include <signal.h>
#include <time.h>

static volatile sig_atomic_t stop_requested;

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
