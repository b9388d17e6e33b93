/*
 * The pod sandbox's process: holds the pod's namespaces open, reaps zombies (when the pod shares
 * its PID namespace) and exits on SIGINT/SIGTERM. The node has no registry.k8s.io to pull the
 * usual pause image from, so testenv builds this one statically and imports it into containerd.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) { _exit(128 + sig); }

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction term = {.sa_handler = stop}, chld = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
  sigaction(SIGINT, &term, NULL);
  sigaction(SIGTERM, &term, NULL);
  sigaction(SIGCHLD, &chld, NULL);
  for (;;) pause();
  return EXIT_FAILURE;
}
