package io.prefork.core;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A line protocol for tests; each line is a command, answered with one line:
 *
 * <pre>
 * ping        pong
 * pid         the child's pid
 * gen         the child's generation
 * sleep N     sleeps N ms, then "slept N"
 * hold        reads until the client closes (holds the worker)
 * throw       throws from handle()
 * exit        System.exit(1)
 * </pre>
 */
public class TestJob implements ChildJob {
  private volatile ChildContext context;

  @Override
  public void open(ChildContext context) {
    this.context = context;
  }

  @Override
  public void handle(Connection connection) throws Exception {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(connection.input(), StandardCharsets.UTF_8));
    OutputStream out = connection.output();
    String line;
    while ((line = in.readLine()) != null) {
      String[] cmd = line.trim().split("\\s+");
      String answer =
          switch (cmd[0]) {
            case "ping" -> "pong";
            case "pid" -> Long.toString(ProcessHandle.current().pid());
            case "gen" -> Long.toString(context.generation());
            case "sleep" -> {
              Thread.sleep(Long.parseLong(cmd[1]));
              yield "slept " + cmd[1];
            }
            case "hold" -> {
              while (in.read() >= 0) {
                // until EOF
              }
              yield null;
            }
            case "throw" -> throw new IllegalStateException("asked to throw");
            case "exit" -> {
              System.exit(1);
              yield null;
            }
            default -> "unknown " + cmd[0];
          };
      if (answer == null) {
        return;
      }
      out.write((answer + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }
}
