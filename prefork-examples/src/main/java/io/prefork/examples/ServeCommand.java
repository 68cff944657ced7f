package io.prefork.examples;

import io.prefork.core.PreforkException;
import io.prefork.core.PreforkServer;
import io.prefork.shm.ShmKeys;
import java.io.PrintWriter;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code serve}: runs a prefork server in the foreground until a wait-down or force-down (from
 * {@code ctl}, SIGTERM or SIGINT). Once every child accepts it prints one line to standard output,
 * which scripts parse for "port N" and "master pid N":
 *
 * <pre>
 * prefork listening on 0.0.0.0:6905 (port 6905), master pid 12345, shm key 0x00006905
 * </pre>
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a prefork server in the foreground.",
      "SIGTERM and SIGINT stop it gracefully, SIGHUP restarts the children, SIGTTIN and SIGTTOU"
          + " add or remove one."
    })
final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--bind",
      paramLabel = "ADDR",
      defaultValue = "0.0.0.0",
      description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(
      names = "--port",
      paramLabel = "N",
      defaultValue = "6905",
      description = "TCP port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--min",
      paramLabel = "N",
      description = "Children started at once and always kept (default: the library's).")
  Integer min;

  @Option(
      names = "--max",
      paramLabel = "N",
      description = "Most children when all are busy (default: the library's).")
  Integer max;

  @Option(
      names = "--shm-key",
      paramLabel = "KEY",
      defaultValue = "0x6905",
      converter = ShmKeyConverter.class,
      description = "System V key of the status table, hex or decimal (default: ${DEFAULT-VALUE}).")
  int shmKey;

  @Option(
      names = "--job",
      paramLabel = "hello|echo|CLASS",
      defaultValue = "hello",
      description =
          "hello: HTTP/1.0 'hello'; echo: echoes lines; or a ChildJob class on the class path"
              + " (default: ${DEFAULT-VALUE}).")
  String job;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PreforkServer server;
    try {
      PreforkServer.Builder builder =
          PreforkServer.builder()
              .bindAddress(bind)
              .port(port)
              .shmKey(shmKey)
              .job(jobClassName(job))
              .handleSignals(true);
      if (min != null) {
        builder.minChildren(min);
      }
      if (max != null) {
        builder.maxChildren(max);
      }
      server = builder.build().start();
    } catch (IllegalArgumentException | PreforkException e) {
      spec.commandLine()
          .getErr()
          .println("prefork serve: " + PreforkExample.oneLine(e.getMessage()));
      return 1;
    }
    out.printf(
        "prefork listening on %s:%d (port %d), master pid %d, shm key %s%n",
        host(server.address()),
        server.port(),
        server.port(),
        server.pid(),
        ShmKeys.toHex(server.shmKey()));
    out.flush();
    server.awaitTermination();
    return 0;
  }

  static String jobClassName(String job) {
    return switch (job) {
      case "hello" -> HelloHttpJob.class.getName();
      case "echo" -> EchoJob.class.getName();
      default -> job;
    };
  }

  private static String host(InetAddress address) {
    String host = address.getHostAddress();
    return address instanceof Inet6Address ? "[" + host + "]" : host;
  }
}
