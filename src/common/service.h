/* Process life cycle shared by the daemons: signals and the wait for stop. */
#ifndef URNA_SERVICE_H
#define URNA_SERVICE_H

/* Installs SIGTERM/SIGINT handlers that only set a flag, and ignores SIGPIPE. */
void service_install_signals(void);

/* Returns non-zero once SIGTERM or SIGINT arrived. */
int service_stop_requested(void);

/* Asks every loop that checks service_stop_requested to end, as SIGTERM does. */
void service_request_stop(void);

/* Sleeps until a stop signal arrives. */
void service_wait_for_stop(void);

#endif
