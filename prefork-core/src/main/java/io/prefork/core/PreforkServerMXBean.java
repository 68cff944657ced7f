package io.prefork.core;

/**
 * The JMX view of a running {@link PreforkServer}, registered as {@code
 * io.prefork:type=PreforkServer,shmKey=0x00006905} (the key as {@code ipcs -m} prints it) while the
 * master runs, when {@link PreforkServer.Builder#jmx(boolean)} is on (the default).
 *
 * <p>Every value is read from the server's shared status table when it is asked for, so it matches
 * {@code ctl status}; each is point-in-time and may change right after it is read, and two values
 * read one after the other do not come from the same moment. Once the server has stopped, the bean
 * is unregistered.
 *
 * <p>The operations queue a command for the master, as a signal or a controller would, and return
 * at once.
 */
public interface PreforkServerMXBean {
  /** The master's pid. */
  int getMasterPid();

  /** How long the master has run, in milliseconds. */
  long getUptime();

  /** The current generation (1 at the start, one more per restart). */
  long getGeneration();

  /** What the master is doing: STARTING, RUNNING, RESTARTING, STOPPING or FORCE_STOPPING. */
  String getState();

  /** The listening address, e.g. {@code 0.0.0.0} or {@code ::}. */
  String getListenAddress();

  /** The listening port. */
  int getListenPort();

  /** Connections waiting in the accept queue, as the kernel last reported it. */
  int getListenQueue();

  /** The accept queue's limit. */
  int getListenBacklog();

  /** Workers waiting in accept. */
  int getIdleWorkers();

  /** Workers serving a connection. */
  int getBusyWorkers();

  /** Child processes in the pool, starting and leaving ones included. */
  int getChildren();

  /** The most children the pool grows to. */
  int getMaxChildren();

  /** The children always kept. */
  int getMinChildren();

  /** Worker threads (slots) per child. */
  int getThreadsPerChild();

  /** Connections accepted since the start, by children alive or gone. */
  long getTotalCalls();

  /** Connections accepted per second over the master's last rate interval (about 1 s). */
  double getCallsPerSecond();

  /** Children spawned since the start. */
  long getSpawns();

  /** Children that died without being asked to. */
  long getCrashes();

  /** Restarts completed. */
  long getRestarts();

  /** Replaces every child by one of a new generation; the socket stays open (like SIGHUP). */
  void restart();

  /** Stops gracefully: children finish the connection in hand, then exit (like SIGTERM). */
  void waitDown();

  /** Stops now: children are killed. */
  void forceDown();
}
