package io.prefork.core;

/** A job whose open() fails, as one that can't reach its database would. */
public class FailingOpenJob implements ChildJob {
  @Override
  public void open(ChildContext context) {
    throw new IllegalStateException("cannot open: database unreachable");
  }

  @Override
  public void handle(Connection connection) {}
}
