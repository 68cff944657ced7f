package io.prefork.shm;

/** Parsing and printing System V keys as operators write them: {@code 0x6905} or {@code 26885}. */
public final class ShmKeys {
  private ShmKeys() {}

  /**
   * Parses a key given in hex ({@code 0x6905}) or decimal ({@code 26885}).
   *
   * @param text the key as written; surrounding blanks are ignored, null is not a key
   * @return the key as the kernel takes it: values above {@code 0x7fffffff} come back negative
   * @throws IllegalArgumentException naming the text when it is not a key, or is 0 (IPC_PRIVATE,
   *     which can't be attached by another process)
   */
  public static int parse(String text) {
    String t = text == null ? "" : text.trim();
    long value;
    try {
      if (t.startsWith("0x") || t.startsWith("0X")) {
        value = Long.parseLong(t.substring(2), 16);
      } else {
        value = Long.parseLong(t);
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "shm key '" + text + "' is not a number: write it in hex (0x6905) or decimal (26885)");
    }
    if (value < Integer.MIN_VALUE || value > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException(
          "shm key '" + text + "' does not fit in 32 bits: use a value up to 0xffffffff");
    }
    if (value == 0) {
      throw new IllegalArgumentException(
          "shm key 0 is IPC_PRIVATE, which no other process can attach: choose another key");
    }
    return (int) value;
  }

  /**
   * The key as {@code 0x} and lower-case hex digits, as {@code ipcs -m} prints it.
   *
   * @param key any key, negative ones included
   * @return {@code 0x} and exactly 8 hex digits, e.g. {@code 0x00006905}
   */
  public static String toHex(int key) {
    // Not String.format: the formatter's first use costs a short-lived tool milliseconds.
    String digits = Integer.toHexString(key);
    return "0x00000000".substring(0, 10 - digits.length()) + digits;
  }
}
