package io.prefork.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.core.ServerCleanup;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.ShmSegment;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code serve} from the built jar: its failures, and its stop on SIGTERM. */
class ServeIT {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  @Test
  void sigtermStopsGracefully() throws Exception {
    int key = cleanup.newKey();
    try (Cli cli = new Cli()) {
      Cli.Serve serve = cli.serve(key);
      try (RawClient client = new RawClient(serve.port())) {
        client.send("GET / HTTP/1.0\r\n\r\n");
        assertTrue(
            new String(client.readToEnd(), StandardCharsets.US_ASCII).endsWith("\r\n\r\nhello\n"));
      }
      List<ProcessHandle> children = serve.process().descendants().toList();
      assertEquals(2, children.size(), "children: " + children);

      serve.process().destroy(); // SIGTERM
      assertTrue(
          Cli.awaitExit(serve.process(), Duration.ofSeconds(10)),
          "serve still running 10 s after SIGTERM:\n" + serve.log());
      assertEquals(0, serve.process().exitValue(), serve.log());
      assertTrue(ShmSegment.stat(key).isEmpty(), "the segment is gone");
      assertTrue(children.stream().noneMatch(ProcessHandle::isAlive), "children are gone");
      assertTrue(serve.log().contains("wait-down"), serve.log());
    }
  }

  @Test
  void aPortInUseIsOneLineAndLeavesNoSegment() throws Exception {
    int key = cleanup.newKey();
    try (Cli cli = new Cli();
        ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      Cli.Result r =
          cli.run(
              "serve",
              "--bind",
              "127.0.0.1",
              "--port",
              Integer.toString(taken.getLocalPort()),
              "--shm-key",
              ShmKeys.toHex(key));
      assertEquals(1, r.exitCode(), r.toString());
      assertEquals("", r.out(), r.toString());
      assertEquals(1, r.err().lines().count(), r.toString());
      assertTrue(r.err().startsWith("prefork serve: "), r.toString());
      assertTrue(r.err().contains("already in use"), r.toString());
      assertTrue(ShmSegment.stat(key).isEmpty(), "no segment left");
    }
  }

  @Test
  void anUnknownJobClassIsOneLine() throws Exception {
    int key = cleanup.newKey();
    try (Cli cli = new Cli()) {
      Cli.Result r =
          cli.run("serve", "--port", "0", "--shm-key", ShmKeys.toHex(key), "--job", "no.Such");
      assertEquals(1, r.exitCode(), r.toString());
      assertEquals(1, r.err().lines().count(), r.toString());
      assertTrue(r.err().startsWith("prefork serve: job class no.Such "), r.toString());
      assertTrue(ShmSegment.stat(key).isEmpty(), "no segment left");
    }
  }

  @Test
  void aBadShmKeyIsAOneLineUsageError() throws Exception {
    try (Cli cli = new Cli()) {
      for (List<String> args :
          List.of(List.of("serve", "--shm-key", "0x69zz"), List.of("ctl", "--shm-key", "0"))) {
        Cli.Result r = cli.run(args.toArray(String[]::new));
        assertEquals(2, r.exitCode(), r.toString());
        assertEquals(1, r.err().lines().count(), r.toString());
        assertTrue(r.err().contains("shm key"), r.toString());
      }
    }
  }
}
