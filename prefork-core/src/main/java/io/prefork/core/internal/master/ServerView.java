package io.prefork.core.internal.master;

/**
 * The pool as the master sees it at one tick.
 *
 * @param idleWorkers workers waiting in accept, and parked ones (spare capacity)
 * @param busyWorkers workers serving a connection
 * @param children child processes alive (including starting and leaving ones)
 * @param startingChildren children not yet accepting
 * @param generation the current generation
 */
public record ServerView(
    int idleWorkers, int busyWorkers, int children, int startingChildren, long generation) {}
