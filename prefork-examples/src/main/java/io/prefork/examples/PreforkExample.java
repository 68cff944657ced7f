package io.prefork.examples;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.ParameterException;

/**
 * The example daemon and its controller, built only on prefork's public API.
 *
 * <pre>
 * java -jar prefork-examples.jar serve [--bind ADDR] [--port N] [--shm-key KEY]
 *     [--job hello|hello-ka|echo|CLASS] [--min N] [--max N] [--threads N] [--min-threads N]
 *     [--min-spare N] [--max-spare N] [--read-timeout S] [--job-timeout S] [--max-calls N] [--graceful-timeout S]
 *     [--daemon] [--pid-file PATH] [--log-file PATH] [--child-log-dir DIR] [--log-config FILE]
 *     [--metrics-port N] [--metrics-bind ADDR] [--child-jvm-option OPTION]...
 * java -jar prefork-examples.jar ctl [--shm-key KEY] status [--json] [--watch [--interval S]]
 *     | wdown | fdown | restart
 * </pre>
 *
 * <p>Exit status: 0 on success; 1 when the server could not start (including an option value the
 * server's builder refuses), stopped on a failure of its own, or when {@code ctl} finds no server
 * it may control; 2 for a usage error (an unknown option, a value that does not parse, an unusable
 * {@code --log-config} file). Every error is one line on standard error.
 */
@Command(
    name = "prefork",
    mixinStandardHelpOptions = true,
    versionProvider = PreforkExample.Version.class,
    description = "A prefork socket server (serve) and its controller (ctl).",
    subcommands = {ServeCommand.class, CtlCommand.class})
public final class PreforkExample {

  /** Only {@link #commandLine()} makes one: the class is used through {@link #main}. */
  private PreforkExample() {}

  /**
   * Runs the command line and exits with its status.
   *
   * @param args {@code serve ...} or {@code ctl ...}; {@code --help} lists them
   */
  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("ctl")) {
      // A plain ctl line runs without picocli (see Ctl): ctl status is run often, by scripts.
      Integer status = Ctl.runPlain(args);
      if (status != null) {
        System.exit(status);
      }
    }
    System.exit(commandLine().execute(args));
  }

  /** The command line, set up with one-line usage errors. */
  static CommandLine commandLine() {
    return new CommandLine(new PreforkExample())
        .setParameterExceptionHandler(PreforkExample::usageError);
  }

  /** One line instead of picocli's message and full usage: scripts read standard error too. */
  private static int usageError(ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    String name = cmd.getCommandSpec().qualifiedName();
    cmd.getErr().println(name + ": " + e.getMessage() + " (see " + name + " --help)");
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }

  /** A message on one line, whatever line breaks it carries: each error is one line. */
  static String oneLine(String message) {
    return String.valueOf(message).strip().replaceAll("\\s*\\R\\s*", " ");
  }

  /**
   * A library message on one line and in this command line's words: the library names its API
   * ({@code shmKey}, {@code ControlHandle.waitDown()}), this tool's users type {@code --shm-key}
   * and {@code ctl wdown}.
   */
  static String inCliWords(String message) {
    return oneLine(message)
        .replace("ControlHandle.waitDown()", "ctl wdown")
        .replace("minThreadsPerChild", "--min-threads")
        .replace("warmUp connections", "--warm-up")
        .replace("1..threadsPerChild", "1..--threads")
        .replace("raise threadsPerChild", "raise --threads")
        .replace("another shmKey", "another --shm-key")
        .replace("check the shmKey", "check --shm-key");
  }

  /** The version from the jar's manifest. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = PreforkExample.class.getPackage().getImplementationVersion();
      return new String[] {
        "prefork-examples " + (v == null ? "(development build)" : v),
        "Java " + Runtime.version() + ", " + System.getProperty("os.name")
      };
    }
  }
}
