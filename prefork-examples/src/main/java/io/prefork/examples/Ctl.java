package io.prefork.examples;

import io.prefork.core.ControlHandle;
import io.prefork.core.PreforkException;
import io.prefork.core.ServerStatus;
import io.prefork.shm.ShmKeys;
import java.io.PrintWriter;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.LocalTime;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What {@code ctl} does, and its command line when that is a plain one, parsed without picocli.
 *
 * <p>{@code ctl status} is run by scripts and health checks, often, so its start-up is what it
 * costs: a plain command line ({@code ctl [--shm-key K] status [--json] [--watch [--interval S]]},
 * {@code wdown}, {@code fdown}, {@code restart}) is recognised here and run at once; picocli, which
 * took about half of a run's time (its model of every command and option is built by reflection
 * before anything runs), only parses what is not plain: help, version, and anything it must refuse
 * with its usage message. Both paths run the same methods below, so they print the same.
 */
final class Ctl {
  /** The key {@code ctl} and {@code serve} use when none is given. */
  static final String DEFAULT_KEY = "0x6905";

  /** {@code --watch} refreshes this often unless {@code --interval} says otherwise. */
  static final double DEFAULT_INTERVAL_SECONDS = 1.0;

  /**
   * The shortest {@code --interval}: a refresh costs a read of the table, nothing of the server.
   */
  static final double MIN_INTERVAL_SECONDS = 0.1;

  /** Clears a terminal and puts the cursor home, as top does between frames. */
  private static final String CLEAR = "\033[H\033[2J";

  private Ctl() {}

  /**
   * A plain ctl command line, parsed.
   *
   * @param shmKey the table's key
   * @param command status, wdown, fdown or restart
   * @param json status --json
   * @param watch status --watch
   * @param intervalSeconds --interval, or the default
   */
  record Plain(int shmKey, String command, boolean json, boolean watch, double intervalSeconds) {}

  /**
   * Runs {@code args} ({@code ctl ...}) if it is a plain command line.
   *
   * @param args the whole command line, starting with {@code ctl}
   * @return the exit status, or null when picocli must parse the line (help, version, an option
   *     that is unknown, repeated or malformed, a missing subcommand)
   */
  static Integer runPlain(String[] args) {
    Plain plain = parsePlain(args);
    if (plain == null) {
      return null;
    }
    JffiStubCache.use();
    PrintWriter out = new PrintWriter(System.out);
    PrintWriter err = new PrintWriter(System.err, true);
    switch (plain.command()) {
      case "status":
        return plain.watch()
            ? watch(plain.shmKey(), plain.json(), plain.intervalSeconds(), out, err)
            : status(plain.shmKey(), plain.json(), out, err);
      case "wdown":
        return waitDown(plain.shmKey(), out, err);
      case "fdown":
        return forceDown(plain.shmKey(), out, err);
      default:
        return restart(plain.shmKey(), out, err);
    }
  }

  /**
   * Parses a plain command line: {@code ctl [--shm-key K] status [--json] [--watch [--interval
   * S]]}, {@code wdown}, {@code fdown} or {@code restart}, each option at most once, {@code
   * --shm-key} before or after the subcommand (as picocli takes it), {@code --opt=value} or {@code
   * --opt value}.
   *
   * @param args the whole command line, starting with {@code ctl}
   * @return the parsed line, or null for anything else (picocli parses it, or refuses it)
   */
  static Plain parsePlain(String[] args) {
    String key = null;
    String command = null;
    boolean json = false;
    boolean watch = false;
    String interval = null;
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--shm-key") || a.startsWith("--shm-key=")) {
        if (key != null) {
          return null;
        }
        if (a.equals("--shm-key")) {
          if (++i >= args.length) {
            return null;
          }
          key = args[i];
        } else {
          key = a.substring("--shm-key=".length());
        }
      } else if (command == null
          && (a.equals("status")
              || a.equals("wdown")
              || a.equals("fdown")
              || a.equals("restart"))) {
        command = a;
      } else if ("status".equals(command) && a.equals("--json") && !json) {
        json = true;
      } else if ("status".equals(command) && a.equals("--watch") && !watch) {
        watch = true;
      } else if ("status".equals(command)
          && (a.equals("--interval") || a.startsWith("--interval="))
          && interval == null) {
        if (a.equals("--interval")) {
          if (++i >= args.length) {
            return null;
          }
          interval = args[i];
        } else {
          interval = a.substring("--interval=".length());
        }
      } else {
        return null;
      }
    }
    if (command == null || (interval != null && !watch)) {
      return null;
    }
    int shmKey;
    double seconds;
    try {
      shmKey = ShmKeys.parse(key == null ? DEFAULT_KEY : key);
      seconds = interval == null ? DEFAULT_INTERVAL_SECONDS : Double.parseDouble(interval);
    } catch (IllegalArgumentException e) {
      return null; // picocli says what is wrong, as a usage error
    }
    if (!(seconds >= MIN_INTERVAL_SECONDS) || Double.isInfinite(seconds)) {
      return null;
    }
    return new Plain(shmKey, command, json, watch, seconds);
  }

  /** {@code ctl status [--json]}: one scoreboard or one JSON line. */
  static int status(int shmKey, boolean json, PrintWriter out, PrintWriter err) {
    return withServer(shmKey, json ? Action.STATUS_JSON : Action.STATUS, out, err);
  }

  /** {@code ctl wdown}. */
  static int waitDown(int shmKey, PrintWriter out, PrintWriter err) {
    return withServer(shmKey, Action.WAIT_DOWN, out, err);
  }

  /** {@code ctl fdown}. */
  static int forceDown(int shmKey, PrintWriter out, PrintWriter err) {
    return withServer(shmKey, Action.FORCE_DOWN, out, err);
  }

  /** {@code ctl restart}. */
  static int restart(int shmKey, PrintWriter out, PrintWriter err) {
    return withServer(shmKey, Action.RESTART, out, err);
  }

  /** What one run of ctl does with the server (a switch, not lambdas: see {@link #runPlain}). */
  private enum Action {
    STATUS,
    STATUS_JSON,
    WAIT_DOWN,
    FORCE_DOWN,
    RESTART
  }

  /** Attaches the server, acts, detaches; no server is one line and status 1. */
  private static int withServer(int shmKey, Action action, PrintWriter out, PrintWriter err) {
    try (ControlHandle server = ControlHandle.attach(shmKey)) {
      switch (action) {
        case STATUS:
          out.print(StatusReport.table(server.status()));
          break;
        case STATUS_JSON:
          out.println(StatusReport.json(server.status()));
          break;
        case WAIT_DOWN:
          server.waitDown();
          out.printf(
              "wait-down sent to master pid %d (shm key %s): children finish their connections,"
                  + " then it stops%n",
              server.masterPid(), ShmKeys.toHex(server.shmKey()));
          break;
        case FORCE_DOWN:
          server.forceDown();
          out.printf(
              "force-down sent to master pid %d (shm key %s): children killed, then it stops%n",
              server.masterPid(), ShmKeys.toHex(server.shmKey()));
          break;
        default:
          server.restart();
          out.printf(
              "restart sent to master pid %d (shm key %s): children are replaced one by one by a"
                  + " new generation%n",
              server.masterPid(), ShmKeys.toHex(server.shmKey()));
          break;
      }
      return 0;
    } catch (PreforkException e) {
      err.println("prefork ctl: " + PreforkExample.inCliWords(e.getMessage()));
      return 1;
    } finally {
      out.flush(); // print() does not flush, and main ends in System.exit
    }
  }

  /**
   * {@code ctl status --watch}: the scoreboard refreshed in place every {@code seconds} (on a
   * terminal the screen is cleared between frames, as top does; otherwise frames follow each other,
   * a blank line apart), or with {@code --json} one JSON line per refresh. Ends with status 0 on
   * SIGINT (Ctrl-C) or SIGTERM, and with status 1 and one line on standard error when the server
   * stops or goes away.
   */
  static int watch(int shmKey, boolean json, double seconds, PrintWriter out, PrintWriter err) {
    ControlHandle server;
    try {
      server = ControlHandle.attach(shmKey);
    } catch (PreforkException e) {
      err.println("prefork ctl: " + PreforkExample.inCliWords(e.getMessage()));
      return 1;
    }
    Thread main = Thread.currentThread();
    AtomicBoolean stopped = new AtomicBoolean();
    Runnable stop =
        () -> {
          stopped.set(true);
          main.interrupt();
        };
    onSignal("INT", stop);
    onSignal("TERM", stop);
    boolean terminal = System.console() != null;
    long intervalNanos = (long) (seconds * 1e9);
    String every = String.format((Locale) null, "%.1f", seconds);
    try {
      while (true) {
        if (stopped.get()) {
          return 0;
        }
        String gone = goneReason(server);
        if (gone != null) {
          out.flush();
          err.println("prefork ctl: " + gone);
          return 1;
        }
        ServerStatus status = server.status();
        if (json) {
          out.println(StatusReport.json(status));
        } else {
          if (terminal) {
            out.print(CLEAR);
          }
          out.print("every " + every + "s, Ctrl-C to stop, " + LocalTime.now().withNano(0) + "\n");
          out.print(StatusReport.table(status));
          if (!terminal) {
            out.println();
          }
        }
        out.flush();
        try {
          Thread.sleep(intervalNanos / 1_000_000, (int) (intervalNanos % 1_000_000));
        } catch (InterruptedException e) {
          // A signal: the loop's check ends it.
        }
      }
    } finally {
      out.flush();
      server.close();
    }
  }

  /** Why the server can no longer be watched, or null while its master runs and keeps the table. */
  private static String goneReason(ControlHandle server) {
    boolean gone;
    try {
      gone = server.awaitGone(Duration.ZERO);
    } catch (RuntimeException e) {
      gone = true;
    }
    if (!gone) {
      return null;
    }
    return "the server at shm key "
        + ShmKeys.toHex(server.shmKey())
        + " stopped: master pid "
        + server.masterPid()
        + " has exited or removed its table; nothing more to watch";
  }

  /**
   * Runs {@code action} when the signal arrives instead of ending the JVM (sun.misc.Signal, found
   * by reflection so nothing names it at compile time; without it the signal ends the JVM as
   * usual).
   */
  private static void onSignal(String name, Runnable action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object proxy =
          Proxy.newProxyInstance(
              Ctl.class.getClassLoader(),
              new Class<?>[] {handler},
              (p, method, args) ->
                  switch (method.getName()) {
                    case "handle" -> {
                      action.run();
                      yield null;
                    }
                    case "hashCode" -> System.identityHashCode(p);
                    case "equals" -> p == args[0];
                    case "toString" -> "ctl --watch handler of SIG" + name;
                    default -> null;
                  });
      Method handle = signal.getMethod("handle", signal, handler);
      handle.invoke(null, signal.getConstructor(String.class).newInstance(name), proxy);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // The JVM keeps its own handling: the signal still ends ctl, only less tidily.
    }
  }
}
