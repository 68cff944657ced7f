package io.prefork.core;

import io.prefork.shm.Command;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's signals, as httpd, gunicorn and unicorn use them: TERM and INT wait-down, HUP
 * restart, TTIN and TTOU one child more or less. Handlers only queue a command for the master
 * thread; every running server that asked for signals gets it.
 */
final class MasterSignals {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");
  private static final List<Consumer<Command>> servers = new CopyOnWriteArrayList<>();
  private static boolean installed;

  private MasterSignals() {}

  static synchronized void register(Consumer<Command> server) {
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

  static void unregister(Consumer<Command> server) {
    servers.remove(server);
  }

  private static void handle(String name, Command command) {
    try {
      boolean wasIgnored =
          Signals.handle(
              name,
              () -> {
                log.info("SIG{}: {}", name, command);
                servers.forEach(server -> server.accept(command));
              });
      if (wasIgnored && !name.equals("TERM")) {
        // Started with the signal ignored (a background job, nohup): keep it that way, as
        // POSIX programs do.
        Signals.ignore(name);
        log.info(
            "SIG{} was ignored when this JVM started (a background job or nohup) and stays"
                + " ignored; use ControlHandle or another signal for {}",
            name,
            command);
      }
    } catch (IllegalArgumentException e) {
      log.warn(
          "cannot handle SIG{} in this JVM ({}); use ControlHandle instead", name, e.getMessage());
    }
  }
}
