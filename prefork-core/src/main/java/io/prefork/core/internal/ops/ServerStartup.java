package io.prefork.core.internal.ops;

import com.sun.net.httpserver.HttpHandler;
import io.prefork.core.PreforkServer;
import io.prefork.core.ServerListener;
import io.prefork.core.internal.master.ListenSocket;
import io.prefork.core.internal.master.ListenerEvents;
import io.prefork.core.internal.master.ServerConfig;
import io.prefork.core.internal.master.ServerEvents;
import io.prefork.core.internal.master.Supervisor;
import io.prefork.shm.Command;
import io.prefork.shm.ShmKeys;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What {@link PreforkServer#start()} does once the pid file is held: the daemon's detach, the
 * listeners' veto, the integrations that observe the master (systemd, the HTTP endpoint, JMX, the
 * pid file), the master itself, and what follows its readiness. Nothing is left behind when any
 * step fails.
 */
public final class ServerStartup {
  /** A started master and its HTTP endpoint (null when off). */
  public record Started(Supervisor supervisor, HttpEndpoint endpoint) {}

  private ServerStartup() {}

  /**
   * Starts the master and its integrations.
   *
   * @throws io.prefork.core.PreforkException if anything fails; nothing is left behind
   */
  public static Started start(
      PreforkServer server,
      ServerConfig config,
      List<ServerListener> listeners,
      Map<String, HttpHandler> routes,
      Consumer<Command> commands,
      PidFile pidFile) {
    if (config.daemon()) {
      Daemon.detach();
    }
    for (ServerListener listener : listeners) {
      listener.starting(server); // may refuse: nothing is started yet
    }
    // Observers of the master: pid file, and integrations (systemd, HTTP endpoint, JMX).
    List<ServerEvents> observers = new java.util.ArrayList<>();
    SystemdNotifier systemd = SystemdNotifier.fromEnvironment(System.getenv(), config.daemon());
    if (systemd != null) {
      observers.add(systemd); // Type=notify: READY=1, STATUS=, RELOADING=1, STOPPING=1
    }
    if (pidFile != null) {
      observers.add(
          new ServerEvents() {
            @Override
            public void stopped() {
              pidFile.release();
            }
          });
    }
    // Bound before the master starts (a port in use fails before any child), and an observer from
    // the first tick; it stops when the master stops.
    HttpEndpoint http = config.httpEndpoint() ? HttpEndpoint.start(config, routes) : null;
    if (http != null) {
      observers.add(http);
    }
    // Registered once the server is ready, unregistered when the master stops.
    PreforkServerJmx jmx =
        config.jmx() ? new PreforkServerJmx(server, commands, config.shmKey()) : null;
    if (jmx != null) {
      observers.add(jmx);
    }
    for (ServerListener listener : listeners) {
      observers.add(new ListenerEvents(listener));
    }
    Supervisor supervisor;
    try {
      supervisor = Supervisor.start(config, observers);
    } catch (RuntimeException | Error e) {
      if (http != null) {
        http.stopped(); // the master may never have run: the endpoint must go all the same
      }
      throw e;
    }
    try {
      announce(config, supervisor, http, jmx, pidFile);
    } catch (RuntimeException | Error e) {
      // Nothing is left behind: the children, the table and the socket go with the failure.
      supervisor.request(Command.FORCE_DOWN);
      try {
        supervisor.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
      }
      throw e;
    }
    return new Started(supervisor, http);
  }

  /** What follows a ready master: the HTTP endpoint, JMX, the pid file, the daemon's ready line. */
  private static void announce(
      ServerConfig config,
      Supervisor supervisor,
      HttpEndpoint http,
      PreforkServerJmx jmx,
      PidFile pidFile) {
    if (http != null) {
      http.attach(supervisor::status);
    }
    if (jmx != null) {
      jmx.register();
    }
    if (pidFile != null) {
      pidFile.write();
    }
    if (config.daemon()) {
      Daemon.ready(
          // The foreground ready line's shape (scripts parse "port N" and "master pid N").
          "prefork daemon listening on "
              + ListenSocket.where(supervisor.address(), supervisor.port())
              + " (port "
              + supervisor.port()
              + "), master pid "
              + ProcessHandle.current().pid()
              + ", shm key "
              + ShmKeys.toHex(config.shmKey())
              + (config.logFile() == null ? ", output discarded" : ", log " + config.logFile()),
          config.logFile());
    }
  }
}
