package io.prefork.core.internal.ops;

import io.prefork.core.internal.master.ServerEvents;
import io.prefork.core.internal.master.ServerView;
import io.prefork.core.internal.os.Libc;
import io.prefork.core.internal.os.OsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
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
 *   <li>{@code STOPPING=1} on wait-down and force-down.
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

  public SystemdNotifier(String target, boolean daemon, long pid) {
    this.target = target;
    this.daemon = daemon;
    this.pid = pid;
    this.address = Libc.unixAddress(target);
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
    log.info(
        "systemd notification on: {}={}{}",
        ENVIRONMENT,
        target,
        daemon ? " (daemon mode: the unit needs NotifyAccess=all)" : "");
    return new SystemdNotifier(target, daemon, ProcessHandle.current().pid());
  }

  @Override
  public void ready(ServerView view) {
    String status = status(view);
    remember(status);
    send((daemon ? "MAINPID=" + pid + "\n" : "") + "READY=1\nSTATUS=" + status);
  }

  @Override
  public void tick(ServerView view) {
    if (lastStatus == null || System.nanoTime() - lastStatusNanos < STATUS_INTERVAL_NANOS) {
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
    lastStatusNanos = System.nanoTime();
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
