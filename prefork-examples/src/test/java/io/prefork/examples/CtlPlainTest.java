package io.prefork.examples;

import static org.junit.jupiter.api.Assertions.*;

import io.prefork.shm.ShmKeys;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The plain ctl command lines that run without picocli ({@link Ctl#parsePlain}): they mean what
 * picocli makes of them, and everything else (help, version, errors) is left to picocli.
 */
class CtlPlainTest {
  @Test
  void plainLinesMeanWhatPicocliMakesOfThem() {
    for (String line :
        List.of(
            "ctl status",
            "ctl status --json",
            "ctl --shm-key 0x7e000001 status --json",
            "ctl --shm-key=26885 status",
            "ctl status --shm-key 0x6905 --json",
            "ctl status --json --shm-key=0x6905",
            "ctl status --watch",
            "ctl status --watch --interval 0.5",
            "ctl status --interval=2 --watch --json",
            "ctl wdown",
            "ctl --shm-key 0x7e000002 fdown",
            "ctl restart --shm-key 0x6905")) {
      String[] args = line.split(" ");
      Ctl.Plain plain = Ctl.parsePlain(args);
      assertNotNull(plain, line);
      CommandLine.ParseResult parsed = PreforkExample.commandLine().parseArgs(args);
      CommandLine.ParseResult ctl = parsed.subcommand();
      CommandLine.ParseResult sub = ctl.subcommand();
      assertEquals(sub.commandSpec().name(), plain.command(), line);
      int key = ctl.matchedOptionValue("--shm-key", ShmKeys.parse(Ctl.DEFAULT_KEY));
      if (sub.hasMatchedOption("--shm-key")) {
        key = sub.matchedOptionValue("--shm-key", key);
      }
      assertEquals(key, plain.shmKey(), line);
      assertEquals(sub.hasMatchedOption("--json"), plain.json(), line);
      assertEquals(sub.hasMatchedOption("--watch"), plain.watch(), line);
      assertEquals(
          sub.matchedOptionValue("--interval", Ctl.DEFAULT_INTERVAL_SECONDS),
          plain.intervalSeconds(),
          line);
    }
  }

  @Test
  void everythingElseIsLeftToPicocli() {
    for (String line :
        List.of(
            "ctl",
            "ctl --help",
            "ctl -h",
            "ctl --version",
            "ctl status --help",
            "ctl status -h",
            "ctl --json status",
            "ctl status --bogus",
            "ctl status extra",
            "ctl status --json --json",
            "ctl --shm-key 1 --shm-key 2 status",
            "ctl --shm-key",
            "ctl --shm-key 0x69o5 status",
            "ctl --shm-key 0 status",
            "ctl status --interval 1",
            "ctl status --watch --interval",
            "ctl status --watch --interval 0.05",
            "ctl status --watch --interval soon",
            "ctl status --watch --interval Infinity",
            "ctl wdown --json",
            "ctl restart now",
            "ctl status wdown")) {
      assertNull(Ctl.parsePlain(line.split(" ")), line);
    }
  }

  @Test
  void picocliRefusesWhatThePlainPathLeavesToIt() {
    for (String line :
        List.of(
            "ctl status --interval 1",
            "ctl status --watch --interval 0.05",
            "ctl status --watch --interval soon",
            "ctl --shm-key 0x69o5 status")) {
      java.io.StringWriter err = new java.io.StringWriter();
      CommandLine cli = PreforkExample.commandLine();
      cli.setErr(new java.io.PrintWriter(err));
      cli.getSubcommands().get("ctl").setErr(new java.io.PrintWriter(err));
      cli.getSubcommands()
          .get("ctl")
          .getSubcommands()
          .get("status")
          .setErr(new java.io.PrintWriter(err));
      int status = cli.execute(line.split(" "));
      assertEquals(2, status, line + ": " + err);
      assertEquals(1, err.toString().strip().lines().count(), line + ": " + err);
    }
  }
}
