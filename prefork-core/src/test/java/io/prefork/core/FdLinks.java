package io.prefork.core;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What a process's file descriptors point to, from /proc/PID/fd. */
final class FdLinks {
  private FdLinks() {}

  static List<String> of(long pid) throws IOException {
    List<String> links = new ArrayList<>();
    try (DirectoryStream<Path> dir =
        Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
      for (Path fd : dir) {
        try {
          links.add(Files.readSymbolicLink(fd).toString());
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    return links;
  }

  /** Every descriptor of the process and what it points to, by number. */
  static java.util.SortedMap<Integer, String> byNumber(long pid) throws IOException {
    java.util.SortedMap<Integer, String> links = new java.util.TreeMap<>();
    try (DirectoryStream<Path> dir =
        Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
      for (Path fd : dir) {
        try {
          links.put(
              Integer.parseInt(fd.getFileName().toString()), Files.readSymbolicLink(fd).toString());
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    return links;
  }

  static String link(long pid, int fd) throws IOException {
    return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "fd", Integer.toString(fd)))
        .toString();
  }
}
