package dev.ihop.cli;

import java.util.Iterator;
import java.util.Map;

/**
 * Renders the flat maps that {@code --json} outputs print. Written here rather than
 * pulling a JSON library onto small devices for a few lines of output.
 */
final class Json {
    private Json() {
    }

    /** Values may be String, Number, Boolean, null, Map and Iterable of those. */
    static String render(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, "");
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, String indent) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> quote(sb, s);
            case Number n -> sb.append(n);
            case Boolean b -> sb.append(b);
            case Map<?, ?> m -> {
                sb.append("{");
                Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
                String inner = indent + "  ";
                while (it.hasNext()) {
                    Map.Entry<?, ?> e = it.next();
                    sb.append("\n").append(inner);
                    quote(sb, String.valueOf(e.getKey()));
                    sb.append(": ");
                    write(sb, e.getValue(), inner);
                    if (it.hasNext()) {
                        sb.append(",");
                    }
                }
                sb.append(m.isEmpty() ? "}" : "\n" + indent + "}");
            }
            case Iterable<?> list -> {
                sb.append("[");
                Iterator<?> it = list.iterator();
                String inner = indent + "  ";
                boolean any = false;
                while (it.hasNext()) {
                    any = true;
                    sb.append("\n").append(inner);
                    write(sb, it.next(), inner);
                    if (it.hasNext()) {
                        sb.append(",");
                    }
                }
                sb.append(any ? "\n" + indent + "]" : "]");
            }
            default -> quote(sb, v.toString());
        }
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
