package io.prefork.core;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * A class path whose directories (Maven's target/classes) are packed into jars, as a packaged
 * application's is: what a class-data archive needs.
 */
final class JarredClassPath {
  private JarredClassPath() {}

  static String of(String classPath, Path workDirectory) throws IOException {
    List<String> entries = new ArrayList<>();
    int n = 0;
    for (String entry : classPath.split(File.pathSeparator)) {
      Path p = Path.of(entry);
      if (Files.isDirectory(p)) {
        Path jar = workDirectory.resolve("classes-" + n++ + ".jar");
        pack(p, jar);
        entries.add(jar.toString());
      } else {
        entries.add(entry);
      }
    }
    return String.join(File.pathSeparator, entries);
  }

  private static void pack(Path directory, Path jar) throws IOException {
    try (OutputStream out = Files.newOutputStream(jar);
        JarOutputStream j = new JarOutputStream(out);
        Stream<Path> files = Files.walk(directory)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        j.putNextEntry(new JarEntry(directory.relativize(f).toString().replace('\\', '/')));
        Files.copy(f, j);
        j.closeEntry();
      }
    }
  }
}
