package io.prefork.core.internal.child;

import io.prefork.core.internal.os.Libc;
import io.prefork.core.internal.os.OsException;
import io.prefork.core.internal.protocol.ChildArguments;
import io.prefork.core.internal.protocol.ExitStatus;
import io.prefork.shm.ChildTable;
import io.prefork.shm.ShmKeys;
import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;

/**
 * A child JVM's start: it asks the kernel to kill it when its master dies, checks that the master
 * is its parent, takes the listening socket from its standard input, attaches its slots in the
 * table, starts the watch thread and hands over to {@link ChildRuntime}. Each failure is one line
 * on standard error and an exit status the master understands. The path is kept short (no logging
 * set-up; of the native bindings only jnr-ffi's, which the table needs anyway): a child is started
 * often.
 */
public final class ChildStart {
  private static final int SIGKILL = 9;

  private ChildStart() {}

  /** Runs the child and returns its exit status. */
  public static int run(String[] rawArgs) {
    ChildArguments args;
    try {
      args = ChildArguments.parse(rawArgs);
    } catch (RuntimeException e) {
      ChildRuntime.fail(e.toString());
      return ExitStatus.CHILD_FAILED;
    }
    dieWithTheMaster();
    if (!ChildRuntime.masterIsParent(args.masterPid())) {
      ChildRuntime.fail(
          "master pid " + args.masterPid() + " is not this process's parent: it is gone");
      return ExitStatus.CHILD_FAILED;
    }
    ServerSocketChannel server;
    try {
      Channel inherited = System.inheritedChannel();
      if (!(inherited instanceof ServerSocketChannel)) {
        ChildRuntime.fail("standard input is not a listening socket (" + inherited + ")");
        return ExitStatus.CHILD_FAILED;
      }
      server = (ServerSocketChannel) inherited;
    } catch (IOException | RuntimeException e) {
      ChildRuntime.fail(e.toString());
      return ExitStatus.CHILD_FAILED;
    }
    ChildTable table;
    try {
      table = ChildTable.attach(args.shmKey(), args.firstSlot(), args.workers());
    } catch (RuntimeException e) {
      ChildRuntime.fail(
          "cannot attach the status table at shm key "
              + ShmKeys.toHex(args.shmKey())
              + ": "
              + e.getMessage());
      return ExitStatus.CHILD_FAILED;
    }
    ChildRuntime child;
    try {
      child = new ChildRuntime(args, server, table);
    } catch (RuntimeException e) {
      table.close();
      ChildRuntime.fail("cannot take this child's slots in the status table: " + e.getMessage());
      return ExitStatus.CHILD_FAILED;
    }
    // Before the job's open(), which may take long or hang: the child follows its master and its
    // exit requests from now on.
    Thread watch = new Thread(child::watch, "prefork-watch");
    watch.setDaemon(true);
    watch.start();
    try {
      return child.serve();
    } finally {
      child.finished();
      ChildRuntime.joinUninterruptibly(
          watch); // it reads the table: done before the table is detached
      table.close();
    }
  }

  /**
   * Asks the kernel to SIGKILL this process when its parent, the master, dies. Called on the main
   * thread, which lives as long as the child: the kernel keeps the request with the thread that
   * made it. If the kernel refuses, the watch thread alone follows the master (within {@link
   * ChildRuntime#WATCH_MILLIS}).
   */
  private static void dieWithTheMaster() {
    try {
      Libc.prctl(Libc.PR_SET_PDEATHSIG, SIGKILL, "PR_SET_PDEATHSIG, SIGKILL");
    } catch (OsException e) {
      ChildRuntime.fail(
          e.getMessage()
              + "; this child notices its master's death within "
              + ChildRuntime.WATCH_MILLIS
              + " ms");
    }
  }
}
