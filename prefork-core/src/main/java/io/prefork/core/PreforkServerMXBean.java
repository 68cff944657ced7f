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
  /** {@return the master's pid} */
  int getMasterPid();

  /** {@return how long the master has run, in milliseconds} */
  long getUptime();

  /** {@return the current generation (1 at the start, one more per restart)} */
  long getGeneration();

  /**
   * What the master is doing: STARTING, RUNNING, RESTARTING, STOPPING or FORCE_STOPPING.
   *
   * @return the master's state's name
   */
  String getState();

  /**
   * The listening address, e.g. {@code 0.0.0.0} or {@code ::}.
   *
   * @return the listening address
   */
  String getListenAddress();

  /** {@return the listening port} */
  int getListenPort();

  /** {@return connections waiting in the accept queue, as the kernel last reported it} */
  int getListenQueue();

  /** {@return the accept queue's limit} */
  int getListenBacklog();

  /** {@return workers waiting in accept} */
  int getIdleWorkers();

  /** {@return workers serving a connection} */
  int getBusyWorkers();

  /** {@return spare worker threads parked until their child accepts on them} */
  int getParkedWorkers();

  /** {@return child processes in the pool, starting and leaving ones included} */
  int getChildren();

  /** {@return the most children the pool grows to} */
  int getMaxChildren();

  /** {@return the children always kept} */
  int getMinChildren();

  /** {@return worker threads (slots) per child} */
  int getThreadsPerChild();

  /** {@return connections accepted since the start, by children alive or gone} */
  long getTotalCalls();

  /** {@return connections accepted per second over the master's last rate interval (about 1 s)} */
  double getCallsPerSecond();

  /** {@return children spawned since the start} */
  long getSpawns();

  /** {@return children that died without being asked to} */
  long getCrashes();

  /** {@return restarts completed} */
  long getRestarts();

  /** Replaces every child by one of a new generation; the socket stays open (like SIGHUP). */
  void restart();

  /** Stops gracefully: children finish the connection in hand, then exit (like SIGTERM). */
  void waitDown();

  /** Stops now: children are killed. */
  void forceDown();
}
