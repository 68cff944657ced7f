package io.prefork.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.prefork.core.PreforkServer;
import io.prefork.core.ServerCleanup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link EchoJob} in real child JVMs of an in-process server, through real sockets. */
class EchoJobTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  @Test
  void echoesLinesUntilTheClientCloses() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(EchoJob.class));
    try (RawClient client = new RawClient(server.port())) {
      client.send("one\n");
      assertEquals("one", client.readLine());
      client.send("tw");
      Thread.sleep(30);
      client.send("o\nthree");
      assertEquals("two", client.readLine());
      // The last line has no line feed: it is echoed when the client closes its half.
      client.halfClose();
      assertEquals("three", client.readLine());
      assertNull(client.readLine());
    }
  }
}
