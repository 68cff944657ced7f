package io.prefork.core;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A job with a warm-up request, for {@link WarmUpTest}. Its warm-up request is the line named by
 * the system property {@code warmup.request} (default {@code warm}); each line is answered:
 *
 * <pre>
 * warm     counts one warm-up, "ok"
 * slow     counts one warm-up after 50 ms, "ok"
 * boom     throws from handle()
 * count    the warm-ups this child counted so far
 * hold     reads until the client closes (holds the worker)
 * </pre>
 */
public class WarmUpJob implements ChildJob {
  private static final AtomicInteger WARM_UPS = new AtomicInteger();

  @Override
  public byte[] warmUpRequest() {
    return (System.getProperty("warmup.request", "warm") + "\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  public void handle(Connection connection) throws Exception {
    InputStream in = connection.input();
    StringBuilder line = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      line.append((char) b);
    }
    String answer =
        switch (line.toString().trim()) {
          case "warm" -> count();
          case "slow" -> {
            Thread.sleep(50);
            yield count();
          }
          case "boom" -> throw new IllegalStateException("boom on the warm-up request");
          case "count" -> Integer.toString(WARM_UPS.get());
          case "hold" -> {
            while (in.read() >= 0) {
              // until EOF
            }
            yield null;
          }
          default -> "unknown";
        };
    if (answer != null) {
      connection.output().write((answer + "\n").getBytes(StandardCharsets.US_ASCII));
    }
  }

  private static String count() {
    WARM_UPS.incrementAndGet();
    return "ok";
  }
}
