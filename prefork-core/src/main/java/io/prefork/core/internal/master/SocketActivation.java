package io.prefork.core.internal.master;

import io.prefork.core.PreforkException;
import io.prefork.core.internal.ops.SystemdNotifier;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * systemd socket activation (sd_listen_fds(3)): when {@code LISTEN_PID} is this process and {@code
 * LISTEN_FDS} is at least 1, the listening socket is the inherited fd 3 ({@code
 * SD_LISTEN_FDS_START}) and the master binds nothing; the configured address, port and backlog are
 * then the {@code .socket} unit's business. Otherwise the master binds as configured.
 *
 * <p>Java cannot unset variables in its own environment, so the variables stay visible in the
 * master; children never see them ({@link ChildLauncher} leaves out {@link #SYSTEMD_ENVIRONMENT}).
 * For the same reason a second server in the same JVM would find them too: only the first server
 * adopts fd 3, once for the JVM's life (when it stops it closes fd 3, whose number may then be
 * another file's); any other binds as configured.
 */
public final class SocketActivation {
  /** The first descriptor systemd passes. */
  static final int SD_LISTEN_FDS_START = 3;

  /** systemd's variables meant for the master alone, never passed on to children. */
  public static final Set<String> SYSTEMD_ENVIRONMENT =
      Set.of(
          "LISTEN_PID",
          "LISTEN_FDS",
          "LISTEN_FDNAMES",
          SystemdNotifier.ENVIRONMENT,
          SystemdNotifier.WATCHDOG_USEC,
          SystemdNotifier.WATCHDOG_PID);

  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  /** A server of this JVM adopted systemd's socket (or is adopting it). */
  private static final AtomicBoolean adopted = new AtomicBoolean();

  private SocketActivation() {}

  /**
   * The master's listening socket: the one systemd passed, or a newly bound one; with {@code
   * deferAccept} set on either.
   */
  static ListenSocket open(ServerConfig config) {
    ListenSocket socket = openUndeferred(config);
    int defer = config.deferAcceptSeconds();
    if (defer > 0) {
      try {
        socket.deferAccept(defer);
      } catch (RuntimeException e) {
        socket.close();
        throw new PreforkException(
            "deferAccept ("
                + config.deferAccept()
                + ") could not be set on "
                + socket
                + ": "
                + e.getMessage()
                + "; set deferAccept to zero to accept every connection at once",
            e);
      }
    }
    return socket;
  }

  private static ListenSocket openUndeferred(ServerConfig config) {
    OptionalInt inherited = inheritedFd(System.getenv(), ProcessHandle.current().pid());
    if (inherited.isPresent() && !adopted.compareAndSet(false, true)) {
      log.info(
          "systemd's socket (fd {}) belongs to the first server of this JVM: this one binds {}",
          inherited.getAsInt(),
          ListenSocket.where(config.bindAddress(), config.port()));
      inherited = OptionalInt.empty();
    }
    if (inherited.isEmpty()) {
      return ListenSocket.bind(config.bindAddress(), config.port(), config.backlog());
    }
    int fd = inherited.getAsInt();
    ListenSocket socket;
    try {
      socket = ListenSocket.adopt(fd);
    } catch (RuntimeException e) {
      adopted.set(false); // fd 3 was not taken: a corrected retry may adopt it
      throw e;
    }
    log.info("listening on inherited fd {} (systemd socket activation): {}", fd, socket);
    if (config.port() != 0 && config.port() != socket.port()) {
      log.info(
          "the configured port {} is not bound: the socket unit's ListenStream= decides",
          config.port());
    }
    return socket;
  }

  /**
   * The descriptor to adopt, if the environment says systemd passed this process sockets.
   *
   * @param environment the process environment ({@code LISTEN_PID}, {@code LISTEN_FDS}, {@code
   *     LISTEN_FDNAMES})
   * @param pid this process's pid
   */
  public static OptionalInt inheritedFd(Map<String, String> environment, long pid) {
    String listenPid = environment.get("LISTEN_PID");
    String listenFds = environment.get("LISTEN_FDS");
    if (listenPid == null && listenFds == null) {
      return OptionalInt.empty();
    }
    long forPid;
    int fds;
    try {
      forPid = Long.parseLong(String.valueOf(listenPid).trim());
      fds = Integer.parseInt(String.valueOf(listenFds).trim());
    } catch (NumberFormatException e) {
      log.warn(
          "ignoring malformed socket activation variables LISTEN_PID={} LISTEN_FDS={}: binding as"
              + " configured",
          listenPid,
          listenFds);
      return OptionalInt.empty();
    }
    if (forPid != pid) {
      log.debug(
          "LISTEN_PID={} is not this process ({}): the passed sockets are not ours; binding as"
              + " configured",
          forPid,
          pid);
      return OptionalInt.empty();
    }
    if (fds < 1) {
      log.debug("LISTEN_FDS={}: systemd passed no socket; binding as configured", fds);
      return OptionalInt.empty();
    }
    if (fds > 1) {
      log.warn(
          "systemd passed {} sockets (fds {}..{}, LISTEN_FDNAMES={}): using fd {}, ignoring the"
              + " others; a prefork server listens on one socket",
          fds,
          SD_LISTEN_FDS_START,
          SD_LISTEN_FDS_START + fds - 1,
          environment.get("LISTEN_FDNAMES"),
          SD_LISTEN_FDS_START);
    }
    return OptionalInt.of(SD_LISTEN_FDS_START);
  }
}
