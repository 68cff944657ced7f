package io.prefork.core;

/** The test protocol, with a close() that never returns: a child can only be killed. */
public class HangingCloseJob extends TestJob {
  @Override
  public void close() throws InterruptedException {
    Thread.sleep(Long.MAX_VALUE);
  }
}
