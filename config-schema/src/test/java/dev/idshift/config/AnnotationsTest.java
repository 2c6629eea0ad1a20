package dev.idshift.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import dev.idshift.config.annotations.Backend;
import dev.idshift.config.annotations.IdshiftAnnotations;
import dev.idshift.config.json.JsonInputException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The annotation checks, and their agreement with the published JSON Schema. */
class AnnotationsTest {

    @Test
    void readsEveryAnnotation() {
        IdshiftAnnotations annotations = IdshiftAnnotations.from(Map.of(
                "dev.idshift.disable", "false", "dev.idshift.fsidmap", "0:300000:65536",
                "dev.idshift.fs-gidmap", "0:400000:10,10:500000:5", "dev.idshift.backend", "kernel",
                "dev.idshift.mounts", "/data,/var/lib/x", "io.kubernetes.other", "kept out"), "config.json");
        assertEquals("0:300000:65536", annotations.fsIdMap().get());
        assertEquals("0:400000:10,10:500000:5", annotations.fsGidMap().get());
        assertEquals(Backend.KERNEL, annotations.backend());
        assertEquals(List.of("/data", "/var/lib/x"), annotations.mounts());
        assertEquals(IdshiftAnnotations.NONE, IdshiftAnnotations.from(Map.of("other", "x"), "config.json"));
    }

    @Test
    void errorsNameTheAnnotationAndTheValue() {
        JsonInputException typo = assertThrows(JsonInputException.class,
                () -> IdshiftAnnotations.from(Map.of("dev.idshift.fsidmpa", "0:1:2"), "config.json"));
        assertTrue(typo.getMessage().startsWith("config.json: $.annotations[\"dev.idshift.fsidmpa\"]: unknown idshift annotation"), typo.getMessage());
        JsonInputException map = assertThrows(JsonInputException.class,
                () -> IdshiftAnnotations.from(Map.of("dev.idshift.fsidmap", "0:300000"), "config.json"));
        assertTrue(map.getMessage().contains("\"0:300000\" is not an id map"), map.getMessage());
        assertThrows(JsonInputException.class, () -> IdshiftAnnotations.from(Map.of("dev.idshift.disable", "yes"), "c"));
        assertThrows(JsonInputException.class, () -> IdshiftAnnotations.from(Map.of("dev.idshift.backend", "zfs"), "c"));
        assertThrows(JsonInputException.class, () -> IdshiftAnnotations.from(Map.of("dev.idshift.mounts", "data"), "c"));
    }

    @Test
    void handWrittenChecksAgreeWithTheJsonSchema() throws Exception {
        JsonSchema schema;
        try (InputStream in = IdshiftAnnotations.class.getResourceAsStream("/dev/idshift/config/idshift-annotations.schema.json")) {
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        }
        ObjectMapper mapper = new ObjectMapper();
        List<String> values = new ArrayList<>(List.of("", "*", "true", "false", "TRUE", "0:1:2", "0:1:2,3:4:5", "0:1:2,", ",0:1:2",
                "0:1", "0:1:2:3", "01234567890:1:1", "0123456789:1:1", "a:b:c", "/data", "/a,/b", "/a,b", "/a,", "*,/a",
                "auto", "kernel", "fuse", "zfs", " 0:1:2"));
        Random random = new Random(7);
        String alphabet = "0123456789:,*/ab";
        for (int i = 0; i < 3000; i++) {
            StringBuilder value = new StringBuilder();
            int length = random.nextInt(14);
            for (int j = 0; j < length; j++) {
                value.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            values.add(value.toString());
        }
        List<String> keys = new ArrayList<>(IdshiftAnnotations.KNOWN);
        keys.add("dev.idshift.unknown");
        keys.add("org.other.key");
        for (String key : keys) {
            for (String value : values) {
                ObjectNode document = mapper.createObjectNode().put(key, value);
                boolean schemaValid = schema.validate((JsonNode) document).isEmpty();
                boolean handValid;
                try {
                    IdshiftAnnotations.from(Map.of(key, value), "test");
                    handValid = true;
                } catch (JsonInputException e) {
                    handValid = false;
                }
                assertEquals(schemaValid, handValid, key + "=\"" + value + "\": schema says " + schemaValid);
            }
        }
    }
}
