package io.prefork.examples;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.CodeSource;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Lets {@code ctl} load jffi's native stub from a copy kept in {@code ~/.cache/prefork} instead of
 * jffi extracting it afresh on every run: unless told where the stub is, jffi writes it to a new
 * temporary file each time (a secure random name, a 135 KB copy, a hash of it, then loading the new
 * file), which cost a {@code ctl} run about 20-40 ms.
 *
 * <p>The copy's directory is named after the CRC-32 and size the jar records for the stub, so a jar
 * with another jffi gets another copy; the copy is written to a temporary file and renamed into
 * place, so a concurrent run never sees half of it. It is handed to jffi through its own {@code
 * jffi.boot.library.path} property, which jffi checks first and falls back from (to its usual
 * extraction) if the file does not load. Anything unusual (no home directory, a read-only one, not
 * running from a jar, the property already set) leaves jffi to do as it always does.
 */
final class JffiStubCache {
  /** Where jffi 1.x keeps its stub for this platform, in its jar and under its boot path. */
  private static final String PLATFORM = "x86_64-Linux";

  private static final String STUB = "libjffi-1.2.so";

  private JffiStubCache() {}

  /** Points jffi at the cached stub, making the copy first if there is none. */
  static void use() {
    try {
      if (System.getProperty("jffi.boot.library.path") != null
          || !"amd64".equals(System.getProperty("os.arch"))) {
        return;
      }
      Path jar = jarOf(JffiStubCache.class);
      String home = System.getProperty("user.home");
      if (jar == null || home == null || home.isEmpty() || home.equals("?")) {
        return;
      }
      try (JarFile file = new JarFile(jar.toFile())) {
        JarEntry entry = file.getJarEntry("jni/" + PLATFORM + "/" + STUB);
        if (entry == null || entry.getSize() <= 0 || entry.getCrc() < 0) {
          return;
        }
        Path dir =
            Path.of(home, ".cache", "prefork")
                .resolve("jffi-" + Long.toHexString(entry.getCrc()) + "-" + entry.getSize());
        Path stub = dir.resolve(PLATFORM).resolve(STUB);
        if (!(Files.isRegularFile(stub) && Files.size(stub) == entry.getSize())) {
          copy(file, entry, stub);
        }
        System.setProperty("jffi.boot.library.path", dir.toString());
      }
    } catch (IOException | RuntimeException e) {
      // Only an optimisation: jffi extracts its stub as usual.
    }
  }

  private static void copy(JarFile file, JarEntry entry, Path stub) throws IOException {
    Path parent = stub.getParent();
    Files.createDirectories(
        parent, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path temp = Files.createTempFile(parent, STUB, ".part");
    try {
      try (InputStream in = file.getInputStream(entry)) {
        Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
      }
      if (Files.size(temp) != entry.getSize()) {
        throw new IOException("short copy of " + entry.getName());
      }
      Files.move(temp, stub, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /** The jar this class was loaded from, or null when it is not a jar (a classes directory). */
  private static Path jarOf(Class<?> c) {
    CodeSource source = c.getProtectionDomain().getCodeSource();
    if (source == null || source.getLocation() == null) {
      return null;
    }
    try {
      File f = new File(source.getLocation().toURI());
      return f.isFile() ? f.toPath() : null;
    } catch (URISyntaxException | IllegalArgumentException e) {
      return null;
    }
  }
}
