package io.prefork.examples;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code serve --log-config FILE}: slf4j-simple's settings ({@code org.slf4j.simpleLogger.*} keys,
 * the format of its {@code simplelogger.properties}) read from a file the operator edits.
 *
 * <p>slf4j-simple reads its settings once, when the first logger is made; a system property wins
 * over the {@code simplelogger.properties} built into the jar. So {@link #apply()} sets each entry
 * as a system property of the master before it logs anything, and {@link #childJvmOptions()} gives
 * the same entries to the children as {@code -Dkey=value}. Keys the file does not set keep the
 * built-in values.
 *
 * <p>Children's output reaches the master's log through the logger {@code io.prefork.child} at
 * INFO, already filtered by the children's own levels. Unless the file sets that logger's level,
 * the master keeps it at {@code info}, so {@code defaultLogLevel=warn} quiets the master without
 * dropping the children's warnings, errors and thread dumps.
 *
 * <p>Every value is checked: slf4j-simple itself ignores an unknown key and reads a misspelt level
 * as INFO, so a typo would go unnoticed.
 */
final class LogConfig {
  static final String PREFIX = "org.slf4j.simpleLogger.";

  /** The logger the master relays children's output with. */
  static final String CHILD_OUTPUT = PREFIX + "log.io.prefork.child";

  private static final Set<String> LEVELS =
      Set.of("trace", "debug", "info", "warn", "error", "off");

  private static final Set<String> BOOLEANS =
      Set.of(
          "showDateTime",
          "showThreadName",
          "showThreadId",
          "showLogName",
          "showShortLogName",
          "levelInBrackets",
          "cacheOutputStream");

  private static final Set<String> STRINGS = Set.of("warnLevelString");

  private final Path file;
  private final Map<String, String> settings;

  private LogConfig(Path file, Map<String, String> settings) {
    this.file = file;
    this.settings = settings;
  }

  /**
   * Reads and checks the file.
   *
   * @throws IllegalArgumentException naming the file, what is wrong and what to do
   */
  static LogConfig load(Path file) {
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(in);
    } catch (NoSuchFileException e) {
      throw bad(
          file,
          "no such file",
          "give the path of a properties file of "
              + PREFIX
              + "* keys, such as the sample"
              + " logging.properties");
    } catch (AccessDeniedException e) {
      throw bad(file, "permission denied", "make it readable by this user");
    } catch (IOException e) {
      String why = Files.isDirectory(file) ? "is a directory" : "cannot be read: " + e;
      throw bad(file, why, "give the path of a readable properties file");
    } catch (IllegalArgumentException e) {
      throw bad(file, "is not a properties file (" + e.getMessage() + ")", "fix its syntax");
    }
    Map<String, String> settings = new TreeMap<>();
    for (String key : properties.stringPropertyNames()) {
      String value = properties.getProperty(key).strip();
      check(file, key, value);
      settings.put(key, value);
    }
    return new LogConfig(file, settings);
  }

  private static void check(Path file, String key, String value) {
    if (!key.startsWith(PREFIX)) {
      throw bad(
          file, "has the key '" + key + "'", "use slf4j-simple's keys, which start with " + PREFIX);
    }
    String name = key.substring(PREFIX.length());
    if (name.equals("defaultLogLevel") || (name.startsWith("log.") && name.length() > 4)) {
      if (!LEVELS.contains(value.toLowerCase(Locale.ROOT))) {
        throw bad(
            file,
            "sets " + key + " to '" + value + "'",
            "use one of trace, debug, info, warn, error, off");
      }
    } else if (BOOLEANS.contains(name)) {
      if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
        throw bad(file, "sets " + key + " to '" + value + "'", "use true or false");
      }
    } else if (name.equals("dateTimeFormat")) {
      try {
        new SimpleDateFormat(value, Locale.ROOT);
      } catch (IllegalArgumentException e) {
        throw bad(
            file,
            "sets " + key + " to '" + value + "' (" + e.getMessage() + ")",
            "use a java.text.SimpleDateFormat pattern such as HH:mm:ss.SSS");
      }
    } else if (name.equals("logFile")) {
      if (!value.equals("System.err")) {
        // System.out would mix logs into what scripts parse; a file would be opened (and
        // truncated) by the master and by every child.
        throw bad(
            file,
            "sets " + key + " to '" + value + "'",
            "leave it out: serve logs to standard error; use --daemon --log-file or"
                + " --child-log-dir to log to files");
      }
    } else if (!STRINGS.contains(name)) {
      throw bad(
          file,
          "has the unknown key '" + key + "'",
          "see the sample logging.properties for the keys slf4j-simple reads");
    }
  }

  private static IllegalArgumentException bad(Path file, String what, String todo) {
    return new IllegalArgumentException("--log-config " + file + ": " + what + "; " + todo);
  }

  /** Sets every entry as a system property; call it before the first logger is made. */
  void apply() {
    settings.forEach(System::setProperty);
    if (!settings.containsKey(CHILD_OUTPUT)) {
      System.setProperty(CHILD_OUTPUT, "info");
    }
  }

  /** The same settings for the children: {@code -Dkey=value}, one option each. */
  List<String> childJvmOptions() {
    List<String> options = new ArrayList<>(settings.size());
    settings.forEach((key, value) -> options.add("-D" + key + "=" + value));
    return options;
  }

  @Override
  public String toString() {
    return "LogConfig[" + file + ", " + settings + "]";
  }
}
