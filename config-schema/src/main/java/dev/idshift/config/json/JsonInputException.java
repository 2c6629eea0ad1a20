package dev.idshift.config.json;

/**
 * Bad input in a JSON document: says which document, which JSON path and what is wrong, in one line
 * a person can act on (e.g. {@code config.json: $.linux.uidMappings[1].size: expected ...}).
 */
public final class JsonInputException extends RuntimeException {
    private final String source;
    private final String jsonPath;

    public JsonInputException(String source, String jsonPath, String problem) {
        super(source + ": " + jsonPath + ": " + problem);
        this.source = source;
        this.jsonPath = jsonPath;
    }

    public String source() {
        return source;
    }

    public String jsonPath() {
        return jsonPath;
    }
}
