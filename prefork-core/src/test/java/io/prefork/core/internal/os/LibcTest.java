package io.prefork.core.internal.os;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The one binding's facade: its error form, and the sockaddr_un it builds for sd_notify. */
class LibcTest {
  @Test
  void aFailedCallSaysWhichCallOnWhatAndTheErrorByName() {
    OsException e = assertThrows(OsException.class, () -> Libc.listen(-1, 1));
    assertEquals("listen(fd -1, backlog 1) failed: EBADF (Bad file descriptor)", e.getMessage());
    assertEquals(9, e.errno());
    e = assertThrows(OsException.class, () -> Libc.open("/nonexistent/x", Libc.O_RDONLY, 0));
    assertEquals(Libc.ENOENT, e.errno());
    assertEquals("open(/nonexistent/x) failed: ENOENT (No such file or directory)", e.getMessage());
  }

  @Test
  void processCallsKeepTheirCReturnConvention() {
    assertEquals(-1, Posix.waitpid(1, new int[1], Posix.WNOHANG), "not our child: ECHILD");
    assertEquals(Libc.ECHILD, Libc.errno());
    assertEquals(0, Posix.kill((int) ProcessHandle.current().pid(), 0), "signal 0: a probe");
    assertEquals(Libc.geteuid(), Posix.geteuid());
    assertEquals(ProcessHandle.current().parent().orElseThrow().pid(), Libc.getppid());
  }

  @Test
  void unixAddressesAreSizedAsSdNotifySizesThem() {
    byte[] path = Libc.unixAddress("/run/x.sock");
    assertEquals(2 + 11 + 1, path.length, "family, path, NUL");
    assertEquals(Libc.AF_UNIX, path[0]);
    assertEquals("/run/x.sock\0", new String(path, 2, 12, StandardCharsets.UTF_8));
    byte[] abstractName = Libc.unixAddress("@name");
    assertArrayEquals(new byte[] {1, 0, 0, 'n', 'a', 'm', 'e'}, abstractName, "no NUL at the end");
    assertEquals(2 + 108, Libc.unixAddress("@" + "a".repeat(107)).length, "fills sun_path");
    assertNull(Libc.unixAddress("@" + "a".repeat(108)));
    assertEquals(2 + 108, Libc.unixAddress("/" + "a".repeat(106)).length, "with its NUL");
    assertNull(Libc.unixAddress("/" + "a".repeat(107)));
    assertNull(Libc.unixAddress("relative.sock"));
    assertNull(Libc.unixAddress("vsock:2:1234"));
    assertEquals(2 + 10 + 1, Libc.unixAddress("/tmp/\u00e9t\u00e9").length, "UTF-8 bytes");
  }
}
