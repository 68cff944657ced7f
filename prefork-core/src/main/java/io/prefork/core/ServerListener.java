package io.prefork.core;

import java.time.Duration;
import java.util.Locale;

/**
 * Hears what the master of one server does: children spawned, ready and gone, restarts, the stop.
 * Registered with {@link PreforkServer.Builder#listener(ServerListener)}; every method does nothing
 * by default, so an implementation overrides only what it needs. Metrics integrations (such as
 * {@code prefork-prometheus}) are built on it.
 *
 * <p>Except for {@link #starting(PreforkServer)}, every method is called on the master's
 * supervising thread, one event at a time, in the order the master sees them. That thread also
 * reaps, spawns and answers commands: an implementation must return quickly (count, enqueue, set a
 * field; no I/O that can block). A call that takes longer than 50 ms (but the first of each kind,
 * which may load classes) is logged once per listener. An exception thrown by one of these methods
 * is logged (logger {@code io.prefork.master}) and ignored: it does not reach the master, nor the
 * other listeners.
 *
 * <p>A child is named by its pid, its index in the pool (0 to {@code maxChildren - 1}; a
 * replacement reuses a free index) and the generation it was started in.
 */
public interface ServerListener {
  /**
   * {@link PreforkServer#start()} was called, before anything is bound or spawned; called on the
   * thread calling {@code start()}. A listener that reads the server later (its {@link
   * PreforkServer#status() status()} from another thread, once {@code start()} has returned) keeps
   * the reference here. An exception thrown here fails {@code start()}, before anything was
   * started. If {@code start()} fails before the master runs (the HTTP endpoint's port or the
   * server's port in use, the shm key taken), no other event follows.
   *
   * @param server the server starting
   */
  default void starting(PreforkServer server) {}

  /**
   * The pool is ready: {@code minChildren} children accept. {@code start()} returns at the same
   * moment, so it may return before this is heard.
   */
  default void ready() {}

  /**
   * A child was spawned; it does not accept yet.
   *
   * @param pid the child's pid
   * @param index its index in the pool
   * @param generation the generation it belongs to
   */
  default void childSpawned(int pid, int index, long generation) {}

  /**
   * A child's workers all accept, for the first time.
   *
   * @param pid the child's pid
   * @param index its index in the pool
   * @param generation the generation it belongs to
   * @param startup the time from its spawn until then
   */
  default void childReady(int pid, int index, long generation, Duration startup) {}

  /**
   * A child is gone (reaped).
   *
   * @param pid the child's pid
   * @param index its index in the pool
   * @param generation the generation it belonged to
   * @param cause why, as the master counts it
   * @param exitCode its exit status, or -1 if a signal ended it
   * @param signal the signal that ended it, or 0 if it exited
   */
  default void childExited(
      int pid, int index, long generation, ExitCause cause, int exitCode, int signal) {}

  /**
   * A restart began: the generation went up by one, and every child of an older generation is to be
   * replaced.
   */
  default void restartBegan() {}

  /** The restart in progress ended: completed (no child of an older generation left) or aborted. */
  default void restartEnded() {}

  /** A wait-down or force-down began. */
  default void stopping() {}

  /**
   * The master stopped: every child gone, the socket closed. The status table is removed right
   * after this returns, so {@link PreforkServer#status()} no longer answers.
   */
  default void stopped() {}

  /** Why a child is gone, as the master counts it. */
  enum ExitCause {
    /** It was asked to exit (restart, recycling, retiring, stopping) and did. */
    REQUESTED,
    /** The watchdog killed it: busy on one connection longer than the job timeout. */
    WATCHDOG,
    /** A force-down, or a wait-down's graceful timeout, killed it. */
    KILLED,
    /** It did not accept within the start timeout after its spawn: killed. */
    START_TIMEOUT,
    /** It exited with status 0 without being asked to, after accepting (the job ended its JVM). */
    EXITED,
    /** It died without being asked to: a crash, an exit of its own, an out-of-memory. */
    CRASHED;

    /**
     * The lower-case name, as in logs and metric labels ({@code start_timeout}).
     *
     * @return the label
     */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
