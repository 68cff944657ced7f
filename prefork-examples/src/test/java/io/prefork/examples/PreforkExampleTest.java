package io.prefork.examples;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.core.PreforkException;
import io.prefork.core.PreforkServer;
import io.prefork.core.ServerCleanup;
import io.prefork.shm.MasterTable;
import io.prefork.shm.TableSpec;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The command line's own words for what the library says in its API's words. */
class PreforkExampleTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  @Test
  void aKeyHeldByALiveMasterIsToldInTheApisWordsAndServeTellsItInItsOwn() throws Exception {
    int key = cleanup.newKey();
    TableSpec spec = new TableSpec(2, 1, 1, InetAddress.getByName("127.0.0.1"), 6905, 128);
    try (MasterTable held = MasterTable.create(key, spec)) {
      held.heartbeat(System.currentTimeMillis());
      PreforkException e =
          assertThrows(
              PreforkException.class,
              () ->
                  PreforkServer.builder()
                      .bindAddress("127.0.0.1")
                      .port(0)
                      .shmKey(key)
                      .job(EchoJob.class)
                      .jmx(false)
                      .build()
                      .start());
      String library = e.getMessage();
      assertTrue(
          library.contains("stop it first (ControlHandle.waitDown()) or choose another shmKey"),
          library);
      assertFalse(library.contains("--shm-key") || library.contains("ctl "), library);
      String cli = PreforkExample.inCliWords(library);
      assertTrue(cli.contains("stop it first (ctl wdown) or choose another --shm-key"), cli);
    }
  }
}
