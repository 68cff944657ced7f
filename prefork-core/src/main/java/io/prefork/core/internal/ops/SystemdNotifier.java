package io.prefork.core.internal.ops;

import io.prefork.core.internal.master.ServerEvents;
import io.prefork.core.internal.master.ServerView;
import io.prefork.core.internal.os.Libc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;
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
 * <p>The socket is non-blocking: a notification systemd cannot take is lost, never waited for.
 * Failures are logged once at WARN (then at DEBUG) and never reach the master.
 */
public final class SystemdNotifier implements ServerEvents {
  /** The environment variable systemd sets for {@code Type=notify} services. */
  public static final String ENVIRONMENT = "NOTIFY_SOCKET";

  /** The shortest interval between two STATUS= updates. */
  static final long STATUS_INTERVAL_NANOS = 1_000_000_000L;

  /** sizeof(sun_path) on Linux. */
  private static final int MAX_ADDRESS_BYTES = 108;

  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  private final String target;
  private final boolean daemon;
  private final long pid;
  private final String address; // for jnr-unixsocket: a path, or NUL + name for an abstract one
  private UnixDatagramChannel channel;
  private boolean warned;
  private String phase = "";
  private String lastStatus;
  private long lastStatusNanos;

  public SystemdNotifier(String target, boolean daemon, long pid) {
    this.target = target;
    this.daemon = daemon;
    this.pid = pid;
    this.address = address(target);
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

  /**
   * The address as jnr-unixsocket takes it, or null if it is not one this notifier can reach (it
   * warns when it would send).
   */
  private static String address(String target) {
    if (!target.startsWith("/") && !target.startsWith("@")) {
      return null; // e.g. systemd 253's vsock: addresses
    }
    // jnr-unixsocket sizes the address by characters: only ASCII has one byte per character.
    if (!StandardCharsets.US_ASCII.newEncoder().canEncode(target)
        || target.length() > MAX_ADDRESS_BYTES - 1) {
      return null;
    }
    return target.startsWith("@") ? "\0" + target.substring(1) : target;
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
    UnixDatagramChannel c = channel;
    channel = null;
    if (c != null) {
      try {
        c.close();
      } catch (IOException | RuntimeException e) {
        log.debug("closing the systemd notification socket failed", e);
      }
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
                + (MAX_ADDRESS_BYTES - 1)
                + " ASCII characters)");
      }
      if (channel == null) {
        UnixDatagramChannel c = UnixDatagramChannel.open();
        c.configureBlocking(false); // never wait for systemd: a full queue loses the message
        Libc.calls().fcntl(c.getFD(), Libc.F_SETFD, Libc.FD_CLOEXEC);
        channel = c;
      }
      byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
      int sent = channel.send(ByteBuffer.wrap(bytes), new UnixSocketAddress(address));
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
            e.toString());
      } else {
        log.debug("cannot notify systemd ({}): {}", message.replace('\n', ' '), e.toString());
      }
    }
  }
}
