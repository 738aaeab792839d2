package io.coecho.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code coecho} command: {@code serve} runs the echo server, {@code bench} the load generator.
 * Bad arguments get one line on stderr and exit code 2; a server that cannot start, exit code 1.
 */
@Command(name = "coecho", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A TCP and UDP echo server on coroutines over epoll, and its load generator.",
        subcommands = {ServeCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit code for bad command-line input. */
    static final int USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (for tests and embedding). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setParameterExceptionHandler((e, a) -> {
            CommandLine c = e.getCommandLine();
            // One line: what is wrong, and where to look.
            c.getErr().println("coecho: " + e.getMessage() + " (see '" + c.getCommandSpec().qualifiedName() + " --help')");
            return USAGE;
        });
        cli.setExecutionExceptionHandler((e, c, p) -> {
            c.getErr().println("coecho: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            return 1;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is needed: serve or bench");
    }

    /** The version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"coecho " + (v != null ? v : "(development build)")
                    + ", Java " + Runtime.version()};
        }
    }
}
