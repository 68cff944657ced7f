package com.example.hello;

import java.util.Arrays;

/**
 * The jar's entry point, so both mains run with {@code java -jar} and the JVM options in the
 * manifest: {@code serve [PORT [SHM_KEY [BIND_ADDRESS]]]} or {@code stop [SHM_KEY]}.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    String command = args.length > 0 ? args[0] : "serve";
    String[] rest = args.length > 0 ? Arrays.copyOfRange(args, 1, args.length) : args;
    switch (command) {
      case "serve" -> HelloServer.main(rest);
      case "stop" -> HelloStop.main(rest);
      default -> {
        System.err.println("usage: java -jar hello-app.jar serve [PORT [SHM_KEY [BIND]]] | stop [SHM_KEY]");
        System.exit(2);
      }
    }
  }
}
