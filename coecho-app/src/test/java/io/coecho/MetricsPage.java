package io.coecho;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A metrics page parsed as Prometheus reads the text formats (Prometheus text 0.0.4 and OpenMetrics
 * 1.0): every line is a {@code # HELP}, {@code # TYPE}, {@code # UNIT} or {@code # EOF} comment or a
 * sample {@code name{label="value",...} number}; parsing fails on any other line, on a sample of a
 * family without a TYPE, or on a bad number.
 *
 * @param types each family's type, by the name its TYPE line gives
 * @param samples every sample, in page order
 */
public record MetricsPage(Map<String, String> types, List<Sample> samples) {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern COMMENT = Pattern.compile("# (HELP|TYPE|UNIT) (" + NAME + ")( .*)?");

    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {}

    public static MetricsPage parse(String body) {
        Map<String, String> types = new LinkedHashMap<>();
        List<Sample> samples = new ArrayList<>();
        for (String line : body.split("\n")) {
            if (line.isEmpty() || line.equals("# EOF")) {
                continue;
            }
            if (line.startsWith("#")) {
                Matcher m = COMMENT.matcher(line);
                assertTrue(m.matches(), "not a metadata line: " + line);
                if (m.group(1).equals("TYPE")) {
                    types.put(m.group(2), m.group(3).trim());
                }
                continue;
            }
            samples.add(sample(line));
        }
        for (Sample s : samples) {
            assertTrue(familyOf(s.name, types) != null, "a sample of no declared family: " + s);
        }
        return new MetricsPage(types, samples);
    }

    private static Sample sample(String line) {
        Matcher n = NAME.matcher(line);
        assertTrue(n.lookingAt(), "no metric name: " + line);
        String name = n.group();
        int i = n.end();
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                int eq = line.indexOf("=\"", i);
                assertTrue(eq > i, "bad label in: " + line);
                String label = line.substring(i, eq);
                assertTrue(NAME.matcher(label).matches(), "bad label name '" + label + "' in: " + line);
                StringBuilder value = new StringBuilder();
                int j = eq + 2;
                for (; line.charAt(j) != '"'; j++) {
                    char c = line.charAt(j);
                    if (c == '\\') {
                        char e = line.charAt(++j);
                        value.append(e == 'n' ? '\n' : e);
                    } else {
                        value.append(c);
                    }
                }
                labels.put(label, value.toString());
                i = j + 1;
                if (line.charAt(i) == ',') {
                    i++;
                }
            }
            i++;
        }
        assertTrue(i < line.length() && line.charAt(i) == ' ', "no value in: " + line);
        String[] rest = line.substring(i + 1).split(" ");
        assertTrue(rest.length <= 2, "trailing text in: " + line);
        double value;
        try {
            value = switch (rest[0]) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(rest[0]);
            };
        } catch (NumberFormatException e) {
            throw new AssertionError("bad value in: " + line);
        }
        return new Sample(name, labels, value);
    }

    /** The family a sample belongs to: its own name, or that name less a type's suffix. */
    private static String familyOf(String sample, Map<String, String> types) {
        if (types.containsKey(sample)) {
            return sample;
        }
        for (String suffix : List.of("_total", "_created", "_count", "_sum", "_bucket", "_info")) {
            if (sample.endsWith(suffix) && types.containsKey(sample.substring(0, sample.length() - suffix.length()))) {
                return sample.substring(0, sample.length() - suffix.length());
            }
        }
        return null;
    }

    /** The samples named name. */
    public List<Sample> samples(String name) {
        return samples.stream().filter(s -> s.name.equals(name)).toList();
    }

    /** The sum of the samples named name over their labels; fails when there are none. */
    public double sum(String name) {
        List<Sample> s = samples(name);
        assertTrue(!s.isEmpty(), "no samples of " + name);
        return s.stream().mapToDouble(Sample::value).sum();
    }

    /** Whether a family of this name is declared (TYPE). */
    public boolean declares(String family) {
        return types.containsKey(family);
    }
}
