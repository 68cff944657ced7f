package io.prefork.core.internal.ops;

import io.prefork.core.internal.os.Signals;
import io.prefork.shm.Command;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's signals, as httpd, gunicorn and unicorn use them: TERM and INT wait-down, HUP
 * restart, TTIN and TTOU one child more or less. Handlers only queue a command for the master
 * thread; every running server that asked for signals gets it.
 *
 * <p>The handlers are installed when the first such server starts and the ones they replaced are
 * put back when the last one stops, so an embedding application gets its signals back after {@code
 * close()}: the JVM's own (SIGTERM, SIGINT and SIGHUP run the shutdown hooks and exit), or its own
 * if it had installed some. A handler the application installed over prefork's meanwhile is left in
 * place.
 */
public final class MasterSignals {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");
  private static final List<Consumer<Command>> servers = new CopyOnWriteArrayList<>();

  private static final List<String> NAMES = List.of("TERM", "INT", "HUP", "TTIN", "TTOU");

  /** The handlers prefork installed, and those they replaced, by signal; guarded by the class. */
  private static final Map<String, Object> ours = new LinkedHashMap<>();

  private static final Map<String, Object> previous = new LinkedHashMap<>();

  private static boolean installed;

  private MasterSignals() {}

  public static synchronized void register(Consumer<Command> server) {
    servers.add(server);
    if (!installed) {
      installed = true;
      handle("TERM", Command.WAIT_DOWN);
      handle("INT", Command.WAIT_DOWN);
      handle("HUP", Command.RESTART);
      handle("TTIN", Command.ADD_CHILD);
      handle("TTOU", Command.REMOVE_CHILD);
    }
  }

  /** The server stopped; the last one to stop gives the signals back to whoever had them. */
  public static synchronized void unregister(Consumer<Command> server) {
    if (!servers.remove(server) || !servers.isEmpty()) {
      return;
    }
    for (String name : NAMES) {
      Object mine = ours.remove(name);
      Object before = previous.remove(name);
      if (mine == null) {
        continue; // never installed (this JVM refused it), or kept ignored
      }
      try {
        Object current = Signals.install(name, before);
        if (current != mine) {
          // The application installed its own handler after ours: that one stays.
          Signals.install(name, current);
        }
      } catch (IllegalArgumentException | IllegalStateException e) {
        log.warn("cannot give SIG{} back to its previous handler: {}", name, e.getMessage());
      }
    }
    ours.clear();
    previous.clear();
    installed = false;
  }

  private static void handle(String name, Command command) {
    Object handler =
        Signals.handler(
            name,
            () -> {
              log.info("SIG{}: {}", name, command);
              servers.forEach(server -> server.accept(command));
            });
    Object before;
    try {
      before = Signals.install(name, handler);
    } catch (IllegalArgumentException e) {
      log.warn(
          "cannot handle SIG{} in this JVM ({}); use ControlHandle instead", name, e.getMessage());
      return;
    }
    if (Signals.isIgnore(before) && !name.equals("TERM")) {
      // Started with the signal ignored (a background job, nohup): keep it that way, as
      // POSIX programs do.
      Signals.install(name, before);
      log.info(
          "SIG{} was ignored when this JVM started (a background job or nohup) and stays"
              + " ignored; use ControlHandle or another signal for {}",
          name,
          command);
      return;
    }
    ours.put(name, handler);
    previous.put(name, before);
  }
}
