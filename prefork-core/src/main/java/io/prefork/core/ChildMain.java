package io.prefork.core;

import io.prefork.core.internal.child.ChildStart;

/**
 * The entry point of child JVMs. A prefork master starts it with the listening socket as standard
 * input; applications never call it.
 */
public final class ChildMain {
  private ChildMain() {}

  /**
   * Runs one child until it is asked to exit, its master disappears, or its job fails to start.
   *
   * @param args written by the master; see {@code ChildArguments}
   */
  public static void main(String[] args) {
    System.exit(ChildStart.run(args));
  }
}
