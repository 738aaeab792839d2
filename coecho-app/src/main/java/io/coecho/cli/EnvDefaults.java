package io.coecho.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Options from the environment: {@code --idle-timeout} is also {@code COECHO_IDLE_TIMEOUT} (the
 * prefix, then the long name in capitals with dashes as underscores), and an option with several
 * long names has a variable for each ({@code COECHO_ADMIN}, {@code COECHO_METRICS}), the first name's
 * winning. picocli asks for a default only for the options the command line did not give, so the
 * command line wins; the value goes through the option's own converter and checks, like a typed one.
 * A flag takes {@code true} or {@code false}; help and version options are not taken.
 *
 * <p>It remembers which values it gave, so that an error can name the variable
 * ({@link #explain}). Used by picocli on the parsing thread.
 */
final class EnvDefaults implements CommandLine.IDefaultValueProvider {
    private final String prefix;
    private final Map<String, String> env;
    /** Values given so far, by option: "VARIABLE=value", in the order picocli asked. */
    private final Map<OptionSpec, String> given = new LinkedHashMap<>();

    EnvDefaults(String prefix, Map<String, String> env) {
        this.prefix = prefix;
        this.env = env;
    }

    /** The variable for a long option name: --idle-timeout → COECHO_IDLE_TIMEOUT. */
    String variable(String longName) {
        return prefix + longName.replaceFirst("^-+", "").toUpperCase(Locale.ROOT).replace('-', '_');
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option) || option.usageHelp() || option.versionHelp()) {
            return null;
        }
        for (String name : option.names()) {
            if (name.startsWith("--")) {
                String var = variable(name);
                String value = env.get(var);
                if (value != null) {
                    given.put(option, var + "=" + value);
                    return value;
                }
            }
        }
        return null;
    }

    /**
     * The message of e, saying which variable gave the bad value: the option's own when e names it
     * (a value that did not convert, or failed a check that knows its option); else those whose
     * option the message mentions (by name, or in words: "buffer size" for --buffer-size); else,
     * when e comes from a check that names no option, every variable that gave a value.
     */
    String explain(CommandLine.ParameterException e) {
        String message = e.getMessage();
        if (given.isEmpty()) {
            return message;
        }
        if (e.getArgSpec() instanceof OptionSpec option) {
            String from = given.get(option);
            return from != null && !matchedOnCommandLine(e, option) ? "from the environment, " + from + ": " + message : message;
        }
        if (e instanceof CommandLine.UnmatchedArgumentException || e instanceof CommandLine.MissingParameterException) {
            return message; // about the command line itself
        }
        // By name first (--udp), else in words (buffer size), the longest words only (so "port" is not
        // taken for "udp min source port").
        Map<String, String> byName = new LinkedHashMap<>();
        Map<String, String> byWords = new LinkedHashMap<>();
        String lower = message.toLowerCase(Locale.ROOT);
        for (Map.Entry<OptionSpec, String> g : given.entrySet()) {
            if (matchedOnCommandLine(e, g.getKey())) {
                continue;
            }
            for (String name : g.getKey().names()) {
                if (!name.startsWith("--")) {
                    continue;
                }
                String words = name.substring(2).replace('-', ' ');
                if (Pattern.compile("(^|[^\\w-])" + Pattern.quote(name) + "($|[^\\w-])").matcher(lower).find()) {
                    byName.put(words, g.getValue());
                } else if (Pattern.compile("\\b" + Pattern.quote(words) + "\\b").matcher(lower).find()) {
                    byWords.put(words, g.getValue());
                }
            }
        }
        Map<String, String> named = !byName.isEmpty() ? byName : byWords;
        List<String> vars = new ArrayList<>();
        for (Map.Entry<String, String> n : named.entrySet()) {
            if (named.keySet().stream().noneMatch(other -> other.length() > n.getKey().length() && other.contains(n.getKey()))) {
                vars.add(n.getValue());
            }
        }
        return vars.isEmpty() ? message + " (options from the environment: " + String.join(", ", given.values()) + ")"
                : "from the environment, " + String.join(", ", vars) + ": " + message;
    }

    private static boolean matchedOnCommandLine(CommandLine.ParameterException e, OptionSpec option) {
        CommandLine.ParseResult r = e.getCommandLine().getParseResult();
        return r != null && r.hasMatchedOption(option);
    }
}
