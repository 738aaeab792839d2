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
        return run(System.getenv(), args);
    }

    /**
     * The commands as they parse a command line, with env as the environment: enum values in any case;
     * serve's options also from COECHO_*, bench's from COECHO_BENCH_* (so that a server's settings in
     * the environment, COECHO_PORT or COECHO_UDP, never change what a load run next to it does).
     */
    static CommandLine commandLine(java.util.Map<String, String> env) {
        CommandLine cli = new CommandLine(new Main());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.getSubcommands().get("serve").setDefaultValueProvider(new EnvDefaults("COECHO_", env));
        cli.getSubcommands().get("bench").setDefaultValueProvider(new EnvDefaults("COECHO_BENCH_", env));
        return cli;
    }

    /** Runs the command line with env as the environment (COECHO_* options) and returns the exit code. */
    static int run(java.util.Map<String, String> env, String... args) {
        CommandLine cli = commandLine(env);
        cli.setParameterExceptionHandler((e, a) -> {
            CommandLine c = e.getCommandLine();
            String message = c.getDefaultValueProvider() instanceof EnvDefaults fromEnv ? fromEnv.explain(e) : e.getMessage();
            // One line: what is wrong, and where to look.
            c.getErr().println("coecho: " + message + " (see '" + c.getCommandSpec().qualifiedName() + " --help')");
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
