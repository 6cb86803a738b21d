package dev.ihop.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Entry point: picocli dispatch to one class per subcommand, one error handler. */
@Command(name = "ihop",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Efficient, verifiable software updates of Linux devices (bita-compatible).",
        subcommands = {
            CommandLine.HelpCommand.class,
            CompressCommand.class,
            InfoCommand.class,
            CloneCommand.class,
            LsCommand.class,
            GcCommand.class,
            VerifyCommand.class,
            ExtractCommand.class,
            DiffCommand.class,
            QuickstartCommand.class,
            ServeCommand.class, MountCommand.class,
        })
public final class Main {

    @Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
            description = "Show stack traces and debug detail.")
    static boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs ihop with {@code args} and returns the exit code (tests call this). */
    public static int run(String... args) {
        return run(new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true), args);
    }

    /** Runs ihop with its output and errors going to the given writers. */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler(new ErrorHandler());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            // picocli hands only Exceptions to the handler; an Error would end in a stack trace.
            err.println("ihop: " + ErrorHandler.outOfMemory());
            if (verbose) {
                e.printStackTrace(err);
            }
            err.flush();
            return ErrorHandler.FAILURE;
        }
    }

    /** The writer version recorded in archives and store dictionaries. */
    public static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v != null ? v : "0.1.0";
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"ihop " + version()};
        }
    }
}
