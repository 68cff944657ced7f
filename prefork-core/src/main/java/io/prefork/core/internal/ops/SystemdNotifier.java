package io.prefork.core.internal.ops;

import io.prefork.core.internal.master.ServerEvents;
import io.prefork.core.internal.master.ServerView;
import io.prefork.core.internal.os.Libc;
import io.prefork.core.internal.os.OsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * systemd's notification protocol (sd_notify(3)) for {@code Type=notify} units: datagrams to the
 * AF_UNIX socket named by {@code NOTIFY_SOCKET} (a path, or an abstract name written with a leading
 * {@code @}).
 *
 * <ul>
 *   <li>{@code READY=1} once {@code minChildren} accept, with a {@code STATUS=} line; in daemon
 *       mode also {@code MAINPID=} (the unit then needs {@code NotifyAccess=all}, since the daemon
 *       is not the process systemd started);
 *   <li>{@code STATUS=4 idle, 2 busy, 6 children (generation 1)} when that text changes, at most
 *       once a second;
 *   <li>{@code RELOADING=1} with {@code MONOTONIC_USEC=} when a restart begins, {@code READY=1}
 *       when it completes or is aborted (systemd's reload protocol; systemd before 253 ignores
 *       MONOTONIC_USEC);
 *   <li>{@code STOPPING=1} on wait-down and force-down;
 *   <li>{@code WATCHDOG=1} every half of {@code WATCHDOG_USEC} when systemd set it for this process
 *       ({@code WatchdogSec=} in the unit; {@code WATCHDOG_PID}, if set, must be this process),
 *       sent from the master's loop at its tick: a supervising thread that hangs stops the pings,
 *       and systemd then kills and restarts the service.
 * </ul>
 *
 * <p>The socket ({@code socket(AF_UNIX, SOCK_DGRAM)} and {@code sendto}, through {@link Libc}) is
 * non-blocking: a notification systemd cannot take is lost, never waited for. Failures are logged
 * once at WARN (then at DEBUG) and never reach the master.
 */
public final class SystemdNotifier implements ServerEvents {
  /** The environment variable systemd sets for {@code Type=notify} services. */
  public static final String ENVIRONMENT = "NOTIFY_SOCKET";

  /** The shortest interval between two STATUS= updates. */
  static final long STATUS_INTERVAL_NANOS = 1_000_000_000L;

  /** systemd's watchdog variables: the interval in µs, and the process it is meant for. */
  public static final String WATCHDOG_USEC = "WATCHDOG_USEC";

  public static final String WATCHDOG_PID = "WATCHDOG_PID";

  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  private final String target;
  private final boolean daemon;
  private final long pid;
  private final byte[] address; // struct sockaddr_un, or null if the target is not one
  private int fd = -1;
  private boolean warned;
  private String phase = "";
  private String lastStatus;
  private long lastStatusNanos;

  /** Half of systemd's watchdog interval, or 0 when there is no watchdog. */
  private final long watchdogNanos;

  private long lastWatchdogNanos;
  private boolean watchdogSent;

  /** Monotonic nanoseconds ({@link System#nanoTime} but in tests): when to ping, when to update. */
  private final LongSupplier nanoClock;

  /** A notifier without the watchdog. */
  public SystemdNotifier(String target, boolean daemon, long pid) {
    this(target, daemon, pid, 0);
  }

  /**
   * @param watchdogUsec systemd's {@code WATCHDOG_USEC}, or 0 for no watchdog
   */
  public SystemdNotifier(String target, boolean daemon, long pid, long watchdogUsec) {
    this(target, daemon, pid, watchdogUsec, System::nanoTime);
  }

  /**
   * @param watchdogUsec systemd's {@code WATCHDOG_USEC}, or 0 for no watchdog
   * @param nanoClock monotonic nanoseconds, for the watchdog's and the STATUS= line's intervals
   */
  public SystemdNotifier(
      String target, boolean daemon, long pid, long watchdogUsec, LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
    this.target = target;
    this.daemon = daemon;
    this.pid = pid;
    this.address = Libc.unixAddress(target);
    this.watchdogNanos = watchdogUsec > 0 ? Math.max(1, watchdogUsec / 2) * 1_000 : 0;
  }

  /**
   * The notifier for this process, or null when {@code NOTIFY_SOCKET} is not set (not run by
   * systemd as a {@code Type=notify} service).
   */
  public static SystemdNotifier fromEnvironment(Map<String, String> environment, boolean daemon) {
    String target = environment.get(ENVIRONMENT);
    if (target == null || target.isEmpty()) {
      return null;
    }
    long pid = ProcessHandle.current().pid();
    long watchdogUsec = watchdogUsec(environment, pid);
    log.info(
        "systemd notification on: {}={}{}{}",
        ENVIRONMENT,
        target,
        daemon ? " (daemon mode: the unit needs NotifyAccess=all)" : "",
        watchdogUsec > 0
            ? "; watchdog: WATCHDOG=1 every "
                + watchdogUsec / 2_000
                + " ms (WATCHDOG_USEC="
                + watchdogUsec
                + ")"
            : "");
    return new SystemdNotifier(target, daemon, pid, watchdogUsec);
  }

  /**
   * {@code WATCHDOG_USEC} if systemd meant it for this process (sd_watchdog_enabled(3): {@code
   * WATCHDOG_PID}, when set, must be this pid), else 0.
   */
  public static long watchdogUsec(Map<String, String> environment, long pid) {
    String usec = environment.get(WATCHDOG_USEC);
    if (usec == null || usec.isBlank()) {
      return 0;
    }
    String forPid = environment.get(WATCHDOG_PID);
    try {
      long value = Long.parseLong(usec.trim());
      if (forPid != null && !forPid.isBlank() && Long.parseLong(forPid.trim()) != pid) {
        log.info(
            "{}={} is meant for pid {}, not this process: no watchdog",
            WATCHDOG_USEC,
            usec,
            forPid);
        return 0;
      }
      if (value <= 0) {
        return 0;
      }
      return value;
    } catch (NumberFormatException e) {
      log.warn(
          "ignoring malformed {}={} {}={}: no watchdog pings",
          WATCHDOG_USEC,
          usec,
          WATCHDOG_PID,
          forPid);
      return 0;
    }
  }

  @Override
  public void ready(ServerView view) {
    String status = status(view);
    remember(status);
    send((daemon ? "MAINPID=" + pid + "\n" : "") + "READY=1\nSTATUS=" + status);
  }

  @Override
  public void tick(ServerView view) {
    if (watchdogNanos > 0) {
      long now = nanoClock.getAsLong();
      if (!watchdogSent || now - lastWatchdogNanos >= watchdogNanos) {
        watchdogSent = true;
        lastWatchdogNanos = now;
        send("WATCHDOG=1"); // the master's loop ticks: it is alive
      }
    }
    if (lastStatus == null || nanoClock.getAsLong() - lastStatusNanos < STATUS_INTERVAL_NANOS) {
      return; // before READY=1, or within a second of the last STATUS=
    }
    String status = status(view);
    if (!status.equals(lastStatus)) {
      remember(status);
      send("STATUS=" + status);
    }
  }

  @Override
  public void restarting(boolean begins) {
    if (begins) {
      phase = "restarting: ";
      // CLOCK_MONOTONIC in µs: System.nanoTime() reads CLOCK_MONOTONIC on Linux.
      send("RELOADING=1\nMONOTONIC_USEC=" + System.nanoTime() / 1_000);
    } else {
      phase = "";
      send("READY=1");
    }
  }

  @Override
  public void stopping() {
    phase = "stopping: ";
    send("STOPPING=1");
  }

  @Override
  public void stopped() {
    if (fd >= 0) {
      Libc.close(fd);
      fd = -1;
    }
  }

  /**
   * The STATUS= text: "4 idle, 2 busy, 6 children (generation 1)", prefixed while restarting or
   * stopping.
   */
  public String status(ServerView view) {
    return phase
        + view.idleWorkers()
        + " idle, "
        + view.busyWorkers()
        + " busy, "
        + view.children()
        + (view.children() == 1 ? " child" : " children")
        + (view.startingChildren() > 0 ? ", " + view.startingChildren() + " starting" : "")
        + " (generation "
        + view.generation()
        + ")";
  }

  private void remember(String status) {
    lastStatus = status;
    lastStatusNanos = nanoClock.getAsLong();
  }

  /** Sends one datagram; never throws. */
  void send(String message) {
    try {
      if (address == null) {
        throw new IOException(
            "not an AF_UNIX address this server can use (an absolute path or @name of at most "
                + (Libc.SUN_PATH_BYTES - 1)
                + " bytes)");
      }
      if (fd < 0) {
        // Non-blocking: never wait for systemd, a full queue loses the message.
        fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, 0);
      }
      byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
      long sent = Libc.sendto(fd, bytes, Libc.MSG_NOSIGNAL, address, target);
      if (sent != bytes.length) {
        throw new IOException("sent " + sent + " of " + bytes.length + " bytes");
      }
      log.debug("notified systemd: {}", message.replace('\n', ' '));
    } catch (IOException | RuntimeException | LinkageError e) {
      if (!warned) {
        warned = true;
        log.warn(
            "cannot notify systemd through {}={} ({}): {}; the server runs on, and further"
                + " failures to notify are logged at DEBUG only",
            ENVIRONMENT,
            target,
            message.replace('\n', ' '),
            e instanceof OsException ? e.getMessage() : e.toString());
      } else {
        log.debug("cannot notify systemd ({}): {}", message.replace('\n', ' '), e.toString());
      }
    }
  }
}
