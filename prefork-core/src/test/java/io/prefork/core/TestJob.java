package io.prefork.core;

import io.prefork.core.internal.child.AcceptedConnection;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A line protocol for tests; each line is a command, answered with one line:
 *
 * <pre>
 * ping        pong
 * pid         the child's pid
 * gen         the child's generation
 * io          "direct" if the connection's streams read and write its descriptor, else "channel"
 * sleep N     sleeps N ms, then "slept N"
 * blob N      N bytes of 'x' (written 64 KiB at a time), then "\n"
 * hold        reads until the client closes (holds the worker)
 * throw       throws from handle()
 * exit        System.exit(1)
 * oom         allocates until the heap is exhausted
 * </pre>
 *
 * <p>Reads byte by byte from the connection's input: a test job, not a fast one.
 */
public class TestJob implements ChildJob {
  private volatile ChildContext context;

  @Override
  public void open(ChildContext context) {
    this.context = context;
  }

  /** Requests are lines of at most this many bytes; a longer one is refused and closed. */
  static final int MAX_LINE = 4096;

  @Override
  public void handle(Connection connection) throws Exception {
    InputStream in = connection.input();
    OutputStream out = connection.output();
    byte[] line = new byte[MAX_LINE];
    while (true) {
      int length = 0;
      int b;
      while ((b = in.read()) >= 0 && b != '\n') {
        if (length == MAX_LINE) {
          out.write("too long\n".getBytes(StandardCharsets.UTF_8));
          return;
        }
        line[length++] = (byte) b;
      }
      if (b < 0) {
        return;
      }
      String[] cmd = new String(line, 0, length, StandardCharsets.UTF_8).trim().split("\\s+");
      String answer =
          switch (cmd[0]) {
            case "ping" -> "pong";
            case "pid" -> Long.toString(ProcessHandle.current().pid());
            case "gen" -> Long.toString(context.generation());
            case "io" ->
                ((AcceptedConnection) connection).streamsOnDescriptor() ? "direct" : "channel";
            case "sleep" -> {
              Thread.sleep(Long.parseLong(cmd[1]));
              yield "slept " + cmd[1];
            }
            case "blob" -> {
              byte[] chunk = new byte[64 * 1024];
              java.util.Arrays.fill(chunk, (byte) 'x');
              for (long left = Long.parseLong(cmd[1]); left > 0; left -= chunk.length) {
                out.write(chunk, 0, (int) Math.min(left, chunk.length));
              }
              yield "";
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
            case "oom" -> {
              java.util.List<long[]> hog = new java.util.ArrayList<>();
              while (true) {
                hog.add(new long[1 << 20]);
              }
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
