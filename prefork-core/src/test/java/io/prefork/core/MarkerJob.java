package io.prefork.core;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@link TestJob}, except that open() looks at the file named by the system property {@code
 * prefork.test.marker}: if it says {@code exit}, the child exits at once with status 1 (a crash
 * right after start); if it says {@code fail}, open() throws (the job cannot start); if it says
 * {@code hang}, open() never returns.
 */
public class MarkerJob extends TestJob {
  @Override
  public void open(ChildContext context) {
    String marker = System.getProperty("prefork.test.marker");
    try {
      if (marker != null && Files.exists(Path.of(marker))) {
        String what = Files.readString(Path.of(marker)).trim();
        if (what.equals("exit")) {
          System.exit(1);
        }
        if (what.equals("fail")) {
          throw new IllegalStateException("marker says fail");
        }
        if (what.equals("hang")) {
          Thread.sleep(Long.MAX_VALUE);
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    super.open(context);
  }
}
