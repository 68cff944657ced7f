package io.prefork.examples;

import io.prefork.core.ControlHandle;
import io.prefork.core.PreforkException;
import io.prefork.core.ServerStatus;
import io.prefork.shm.ShmKeys;
import java.io.PrintWriter;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code ctl}: controls a running server from another process, through its shared status table
 * ({@link ControlHandle}). When there is no server at the key, or the segment is not a prefork
 * table of this user, it prints one line to standard error and exits 1.
 */
@Command(
    name = "ctl",
    mixinStandardHelpOptions = true,
    description = "Shows or controls the server with this shm key.")
final class CtlCommand {
  @Spec CommandSpec spec;

  @Option(
      names = "--shm-key",
      paramLabel = "KEY",
      defaultValue = "0x6905",
      converter = ShmKeyConverter.class,
      scope = ScopeType.INHERIT,
      description =
          "System V key of the server's table, hex or decimal (default: ${DEFAULT-VALUE}).")
  int shmKey;

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = "Prints the master and one line per worker; --json prints one JSON object.")
  int status(
      @Option(
              names = "--json",
              description =
                  "One JSON object on one line: masterPid, generation, state, listen,"
                      + " uptimeMillis, heartbeatAgeMillis, workers (idle, busy, starting,"
                      + " exiting, total), childCount, minChildren, maxChildren, threadsPerChild,"
                      + " totalCalls, callsPerSecond, rateIntervalMillis, spawns, crashes,"
                      + " restarts, spawnBackoffUntilMillis, listenQueue, listenBacklog, and"
                      + " children: one per worker (slot, pid, state, calls, generation,"
                      + " millisInState, ageMillis, workerIndex, exitRequest). Fields keep their"
                      + " order; new ones are only appended.")
          boolean json) {
    return withServer(
        server -> {
          ServerStatus status = server.status();
          if (json) {
            out().println(StatusReport.json(status));
          } else {
            out().print(StatusReport.table(status));
          }
          return 0;
        });
  }

  @Command(
      name = "wdown",
      mixinStandardHelpOptions = true,
      description = "Wait-down: children finish their connections and exit, then the master.")
  int waitDown() {
    return withServer(
        server -> {
          server.waitDown();
          out()
              .printf(
                  "wait-down sent to master pid %d (shm key %s): children finish their connections,"
                      + " then it stops%n",
                  server.masterPid(), ShmKeys.toHex(server.shmKey()));
          return 0;
        });
  }

  @Command(
      name = "fdown",
      mixinStandardHelpOptions = true,
      description = "Force-down: kills the children now, then the master stops.")
  int forceDown() {
    return withServer(
        server -> {
          server.forceDown();
          out()
              .printf(
                  "force-down sent to master pid %d (shm key %s): children killed, then it stops%n",
                  server.masterPid(), ShmKeys.toHex(server.shmKey()));
          return 0;
        });
  }

  @Command(
      name = "restart",
      mixinStandardHelpOptions = true,
      description = "Replaces every child by one of a new generation; the socket stays open.")
  int restart() {
    return withServer(
        server -> {
          server.restart();
          out()
              .printf(
                  "restart sent to master pid %d (shm key %s): children are replaced one by one by a"
                      + " new generation%n",
                  server.masterPid(), ShmKeys.toHex(server.shmKey()));
          return 0;
        });
  }

  /** Attaches the server, runs the action, detaches; no server is one line and status 1. */
  private int withServer(Function<ControlHandle, Integer> action) {
    try (ControlHandle server = ControlHandle.attach(shmKey)) {
      return action.apply(server);
    } catch (PreforkException e) {
      spec.commandLine()
          .getErr()
          .println("prefork ctl: " + PreforkExample.inCliWords(e.getMessage()));
      return 1;
    } finally {
      out().flush(); // print() does not flush, and main ends in System.exit
    }
  }

  private PrintWriter out() {
    return spec.commandLine().getOut();
  }
}
