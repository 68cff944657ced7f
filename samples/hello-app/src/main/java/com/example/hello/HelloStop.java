package com.example.hello;

import io.prefork.core.ControlHandle;
import io.prefork.core.PreforkException;
import java.time.Duration;

/**
 * The controller: {@code HelloStop [SHM_KEY]} force-downs the server on that key (its children are
 * killed now, the master removes its table and exits) and waits until its master is gone. Any
 * process of the server's user can do this, by key, through the server's shared-memory table.
 */
public final class HelloStop {
  private HelloStop() {}

  public static void main(String[] args) {
    int shmKey = args.length > 0 ? Integer.decode(args[0]) : 0x4865;
    try (ControlHandle server = ControlHandle.attach(shmKey)) {
      int pid = server.masterPid();
      server.forceDown(); // returns once the master has taken the command
      if (!server.awaitGone(Duration.ofSeconds(10))) {
        System.err.println("hello-app: master pid " + pid + " is still running after 10 s");
        System.exit(1);
      }
      System.out.println("hello-app: master pid " + pid + " is gone");
    } catch (PreforkException e) {
      System.err.println("hello-app: " + e.getMessage());
      System.exit(1);
    }
  }
}
