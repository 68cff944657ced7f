package io.prefork.core;

import io.prefork.core.internal.master.TableStatus;
import io.prefork.shm.Command;
import io.prefork.shm.ControlPort;
import io.prefork.shm.MasterTable;
import io.prefork.shm.ShmException;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.StatusTableException;
import io.prefork.shm.TableSnapshot;
import java.io.File;
import java.time.Duration;

/**
 * Controls a running server from any process of the same user, through its shared status table:
 * wait-down, force-down, restart, one child more or less, and status.
 *
 * <pre>{@code
 * try (ControlHandle server = ControlHandle.attach(0x6905)) {
 *   System.out.println(server.status().workers());
 *   server.restart();
 * }
 * }</pre>
 *
 * <p>Each command returns once the master took it (within a tick, 50 ms); it takes effect within
 * 200 ms. Thread-safe.
 */
public final class ControlHandle implements AutoCloseable {
  /** How long a command may wait for the master to take it. */
  static final Duration TAKE_TIMEOUT = Duration.ofSeconds(2);

  private final int shmKey;
  private final ControlPort port;
  private final int masterPid;

  private ControlHandle(int shmKey, ControlPort port, int masterPid) {
    this.shmKey = shmKey;
    this.port = port;
    this.masterPid = masterPid;
  }

  /**
   * Attaches the server whose table has this key.
   *
   * @param shmKey the System V key of the server's status table
   * @return a handle on that server; close it when done
   * @throws PreforkException when there is no server at the key, the segment is not a prefork table
   *     of this user, or its master is gone
   */
  public static ControlHandle attach(int shmKey) {
    ControlPort port;
    try {
      port = ControlPort.attach(shmKey);
    } catch (ShmException e) {
      throw new PreforkException(noServer(shmKey, e), e);
    } catch (StatusTableException e) {
      throw new PreforkException("no usable prefork server at " + e.getMessage(), e);
    }
    TableSnapshot s;
    try {
      s = port.snapshot();
    } catch (RuntimeException e) {
      port.close();
      throw new PreforkException(
          "cannot read the prefork server's table at shm key "
              + ShmKeys.toHex(shmKey)
              + ": "
              + e.getMessage(),
          e);
    }
    long ahead = s.heartbeatMillis() - s.takenAtMillis();
    if (ahead > MasterTable.STALE_AFTER_MILLIS) {
      // A master writes its clock every 50 ms: far ahead of ours is a corrupt table (or a clock
      // that just stepped back by more than that).
      port.close();
      throw new PreforkException(
          "no usable prefork server at shm key "
              + ShmKeys.toHex(shmKey)
              + ": its master's last heartbeat, "
              + s.heartbeatMillis()
              + ", is "
              + ahead / 1000
              + " s ahead of this host's clock: the table is corrupt (or the clock was just set"
              + " back); retry in a moment, and if it persists stop master pid "
              + s.masterPid()
              + " and start the server again, or choose another shmKey");
    }
    boolean running = pidAlive(s.masterPid());
    if (!running || s.heartbeatAgeMillis() >= MasterTable.STALE_AFTER_MILLIS) {
      port.close();
      String key = ShmKeys.toHex(shmKey);
      long age = s.heartbeatAgeMillis() / 1000;
      int pid = s.masterPid();
      throw new PreforkException(
          running
              ? "the server at shm key "
                  + key
                  + " does not answer: master pid "
                  + pid
                  + " is running but its last heartbeat was "
                  + age
                  + " s ago, so it is hung or stopped (SIGSTOP); look at it (jstack "
                  + pid
                  + ", its log), then kill it (kill -9 "
                  + pid
                  + ") and start again"
              : "the server at shm key "
                  + key
                  + " is gone: master pid "
                  + pid
                  + " is not running (last heartbeat "
                  + age
                  + " s ago); the next start on this key takes over its stale table");
    }
    return new ControlHandle(shmKey, port, s.masterPid());
  }

  private static String noServer(int shmKey, ShmException e) {
    String key = ShmKeys.toHex(shmKey);
    return switch (e.errnoName()) {
      case "ENOENT" ->
          "no prefork server at shm key "
              + key
              + ": no segment with that key exists; is the server running, and with this key?";
      case "EACCES", "EPERM" ->
          "permission denied for the prefork server at shm key "
              + key
              + ": its table belongs to another user; run as the server's user ("
              + e.getMessage()
              + ")";
      default -> "cannot attach the server at shm key " + key + ": " + e.getMessage();
    };
  }

  /**
   * True if a process with this pid exists (a zombie included): its directory in /proc, where
   * ProcessHandle looks too, without starting ProcessHandle's machinery in a short-lived ctl.
   */
  private static boolean pidAlive(int pid) {
    return pid > 0 && new File("/proc", Integer.toString(pid)).isDirectory();
  }

  /** {@return the key of the server's table} */
  public int shmKey() {
    return shmKey;
  }

  /** {@return the master's pid} */
  public int masterPid() {
    return masterPid;
  }

  /** Kills the children now; the master removes its table and stops. */
  public void forceDown() {
    post(Command.FORCE_DOWN);
  }

  /**
   * Children finish the connection in hand and exit; then the master removes its table and stops.
   */
  public void waitDown() {
    post(Command.WAIT_DOWN);
  }

  /**
   * Wait-down, then waits until the master is gone (or has removed its table, for a master in this
   * JVM).
   *
   * @param timeout how long to wait at most
   * @return true if it was gone within the timeout
   */
  public boolean waitDown(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    post(Command.WAIT_DOWN);
    return awaitGone(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
  }

  /** Replaces every child by one of a new generation, without closing the listening socket. */
  public void restart() {
    post(Command.RESTART);
  }

  /** One child more, within maxChildren. */
  public void addChild() {
    post(Command.ADD_CHILD);
  }

  /** One child less, within minChildren; an idle child exits gracefully. */
  public void removeChild() {
    post(Command.REMOVE_CHILD);
  }

  /** {@return the server's status now} The values are point-in-time and may change at once. */
  public ServerStatus status() {
    return TableStatus.of(port.snapshot());
  }

  /**
   * Waits until the master process has exited or removed its table.
   *
   * @param timeout how long to wait at most
   * @return false if the timeout passed first
   */
  public boolean awaitGone(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!gone()) {
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return gone();
      }
    }
    return true;
  }

  private boolean gone() {
    return !pidAlive(masterPid) || port.stat().markedForRemoval();
  }

  private void post(Command command) {
    long sequence = port.post(command);
    if (!port.awaitTaken(sequence, TAKE_TIMEOUT)) {
      throw new PreforkException(
          "the master (pid "
              + masterPid
              + ") of shm key "
              + ShmKeys.toHex(shmKey)
              + " did not take "
              + command
              + " within "
              + TAKE_TIMEOUT.toSeconds()
              + " s (heartbeat "
              + port.snapshot().heartbeatAgeMillis()
              + " ms ago): is it hung? Try kill -TERM "
              + masterPid);
    }
  }

  /** Detaches from the table. */
  @Override
  public void close() {
    port.close();
  }
}
