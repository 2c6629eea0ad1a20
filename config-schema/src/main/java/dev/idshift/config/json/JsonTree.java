package dev.idshift.config.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a JSON document into plain Java values (LinkedHashMap, ArrayList, String, Long/BigInteger,
 * Double, Boolean, null) with jackson-core's streaming parser, and writes such values back.
 *
 * <p>Why not databind: it costs ~130 ms of JVM start-up, and hooks run on every container start.
 * Member order is kept, so a config we rewrite (precreate stage) keeps its shape.
 */
public final class JsonTree {
    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonTree() {
    }

    /** Parses a whole document whose top level must be an object. */
    public static JsonObjectView parseObject(byte[] document, String source) {
        Object value = parse(document, source);
        if (!(value instanceof Map)) {
            throw new JsonInputException(source, "$", "expected a JSON object at the top level, got " + JsonObjectView.describe(value));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> members = (Map<String, Object>) value;
        return new JsonObjectView(members, "$", source);
    }

    public static Object parse(byte[] document, String source) {
        if (document.length == 0) {
            throw new JsonInputException(source, "$", "empty input, expected a JSON document");
        }
        try (JsonParser parser = FACTORY.createParser(document)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw new JsonInputException(source, "$", "empty input, expected a JSON document");
            }
            Object value = readValue(parser, first);
            if (parser.nextToken() != null) {
                throw new JsonInputException(source, "$", "unexpected data after the end of the JSON document");
            }
            return value;
        } catch (JsonParseException e) {
            String where = e.getProcessor() == null ? "$" : pathOf((JsonParser) e.getProcessor());
            throw new JsonInputException(source, where, "malformed JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        } catch (StreamConstraintsException e) {
            // Past the parser's limits (nesting depth, number or string length): bad input, not a fault of ours.
            throw new JsonInputException(source, "$", "malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String pathOf(JsonParser parser) {
        String pointer = parser.getParsingContext().pathAsPointer().toString();
        return JsonObjectView.pointerToPath(pointer);
    }

    private static Object readValue(JsonParser parser, JsonToken token) throws IOException {
        switch (token) {
            case START_OBJECT: {
                Map<String, Object> members = new LinkedHashMap<>();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String name = parser.currentName();
                    members.put(name, readValue(parser, parser.nextToken()));
                }
                return members;
            }
            case START_ARRAY: {
                List<Object> items = new ArrayList<>();
                JsonToken next;
                while ((next = parser.nextToken()) != JsonToken.END_ARRAY) {
                    items.add(readValue(parser, next));
                }
                return items;
            }
            case VALUE_STRING:
                return parser.getText();
            case VALUE_NUMBER_INT:
                return parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        ? parser.getBigIntegerValue() : (Object) parser.getLongValue();
            case VALUE_NUMBER_FLOAT:
                return parser.getDoubleValue();
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            default:
                throw new JsonParseException(parser, "unexpected token " + token);
        }
    }

    /** Serialises plain values (as produced by {@link #parse}) back to compact JSON. */
    public static byte[] write(Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        write(value, out);
        return out.toByteArray();
    }

    public static void write(Object value, OutputStream out) {
        try (JsonGenerator generator = FACTORY.createGenerator(out)) {
            writeValue(generator, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeValue(JsonGenerator generator, Object value) throws IOException {
        if (value == null) {
            generator.writeNull();
        } else if (value instanceof Map) {
            generator.writeStartObject();
            for (Map.Entry<?, ?> member : ((Map<?, ?>) value).entrySet()) {
                generator.writeFieldName(String.valueOf(member.getKey()));
                writeValue(generator, member.getValue());
            }
            generator.writeEndObject();
        } else if (value instanceof List) {
            generator.writeStartArray();
            for (Object item : (List<?>) value) {
                writeValue(generator, item);
            }
            generator.writeEndArray();
        } else if (value instanceof String) {
            generator.writeString((String) value);
        } else if (value instanceof Long || value instanceof Integer) {
            generator.writeNumber(((Number) value).longValue());
        } else if (value instanceof BigInteger) {
            generator.writeNumber((BigInteger) value);
        } else if (value instanceof Number) {
            generator.writeNumber(((Number) value).doubleValue());
        } else if (value instanceof Boolean) {
            generator.writeBoolean((Boolean) value);
        } else {
            throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
        }
    }
}
