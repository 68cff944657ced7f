package io.prefork.examples;

import io.prefork.core.ControlHandle;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code ctl}: controls a running server from another process, through its shared status table
 * ({@link ControlHandle}). When there is no server at the key, or the segment is not a prefork
 * table of this user, it prints one line to standard error and exits 1.
 *
 * <p>A plain command line never reaches picocli: {@link Ctl#runPlain} runs it (the same methods, so
 * the same output) without building picocli's model first. This class defines the command line for
 * help and for usage errors.
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
      defaultValue = Ctl.DEFAULT_KEY,
      converter = ShmKeyConverter.class,
      scope = ScopeType.INHERIT,
      description =
          "System V key of the server's table, hex or decimal (default: ${DEFAULT-VALUE}).")
  int shmKey;

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description =
          "Prints the master and one line per worker; --json prints one JSON object; --watch"
              + " refreshes it in place until Ctrl-C or the server stops.")
  int status(
      @Option(
              names = "--json",
              description =
                  "One JSON object on one line: masterPid, generation, state, listen,"
                      + " uptimeMillis, heartbeatAgeMillis, workers (idle, busy, starting,"
                      + " exiting, total), childCount, minChildren, maxChildren, threadsPerChild,"
                      + " totalCalls, callsPerSecond, rateIntervalMillis, spawns, crashes,"
                      + " restarts, spawnBackoffUntilMillis, listenQueue, listenBacklog,"
                      + " poolDecision, poolDecisionAtMillis, masterRssBytes, childrenRssBytes,"
                      + " and children: one per worker (slot, pid, state, calls, generation,"
                      + " millisInState, ageMillis, workerIndex, exitRequest). Fields keep their"
                      + " order; new ones are only appended. With --watch: one such line per"
                      + " refresh.")
          boolean json,
      @Option(
              names = "--watch",
              description =
                  "Refreshes the status every --interval seconds, in place on a terminal, until"
                      + " Ctrl-C (exit 0) or until the server stops (one line on stderr, exit 1).")
          boolean watch,
      @Option(
              names = "--interval",
              paramLabel = "SECONDS",
              description =
                  "With --watch: seconds between refreshes, fractions allowed, at least 0.1"
                      + " (default: 1).")
          Double interval) {
    if (interval != null) {
      CommandLine status = spec.commandLine().getSubcommands().get("status");
      if (!watch) {
        throw new ParameterException(status, "--interval needs --watch");
      }
      if (!(interval >= Ctl.MIN_INTERVAL_SECONDS) || interval.isInfinite()) {
        throw new ParameterException(
            status,
            "--interval must be at least "
                + Ctl.MIN_INTERVAL_SECONDS
                + " seconds, was "
                + interval);
      }
    }
    if (watch) {
      return Ctl.watch(
          shmKey, json, interval == null ? Ctl.DEFAULT_INTERVAL_SECONDS : interval, out(), err());
    }
    return Ctl.status(shmKey, json, out(), err());
  }

  @Command(
      name = "wdown",
      mixinStandardHelpOptions = true,
      description = "Wait-down: children finish their connections and exit, then the master.")
  int waitDown() {
    return Ctl.waitDown(shmKey, out(), err());
  }

  @Command(
      name = "fdown",
      mixinStandardHelpOptions = true,
      description = "Force-down: kills the children now, then the master stops.")
  int forceDown() {
    return Ctl.forceDown(shmKey, out(), err());
  }

  @Command(
      name = "restart",
      mixinStandardHelpOptions = true,
      description = "Replaces every child by one of a new generation; the socket stays open.")
  int restart() {
    return Ctl.restart(shmKey, out(), err());
  }

  private PrintWriter out() {
    return spec.commandLine().getOut();
  }

  private PrintWriter err() {
    return spec.commandLine().getErr();
  }
}
