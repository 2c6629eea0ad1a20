package dev.idshift.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.config.json.JsonInputException;
import dev.idshift.config.json.JsonTree;
import dev.idshift.config.oci.IdMapping;
import dev.idshift.config.oci.OciConfig;
import dev.idshift.config.oci.OciReader;
import dev.idshift.config.oci.OciState;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OciReaderTest {
    private static byte[] json(String text) {
        return text.replace('\'', '"').getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsRuncAndCrunStates() {
        OciState runc = OciReader.readState(json("{'ociVersion':'1.0.2','id':'c1','status':'creating','pid':4242,'bundle':'/b',"
                + "'annotations':{'a':'b'}}"), "state");
        assertEquals(4242, runc.pid());
        assertEquals("creating", runc.status());
        assertEquals("b", runc.annotations().get("a"));
        OciState crun = OciReader.readState(json("{'ociVersion':'1.0.0','id':'c2','status':'created','pid':7,'bundle':'/b','root':'/r'}"), "state");
        assertEquals("created", crun.status());
        assertEquals(7, crun.pid());
    }

    @Test
    void readsTheConfigSubset() {
        OciConfig config = OciReader.readConfig(json("{'ociVersion':'1.0.2','root':{'path':'rootfs','readonly':true},"
                + "'mounts':[{'destination':'/data','type':'bind','source':'/srv','options':['rbind']}],"
                + "'linux':{'namespaces':[{'type':'user'},{'type':'mount','path':'/proc/1/ns/mnt'}],"
                + "'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],'maskedPaths':['/proc/kcore'],"
                + "'rootfsPropagation':'rslave'},'annotations':{'dev.idshift.disable':'true'},'process':{'args':['sh']}}"), "config.json");
        assertEquals("rootfs", config.root().path());
        assertTrue(config.root().readonly());
        assertTrue(config.mounts().get(0).isBind());
        assertEquals(List.of(new IdMapping(0, 100000, 65536)), config.linux().uidMappings());
        assertTrue(config.linux().namespace("user").isPresent());
        assertEquals("/proc/1/ns/mnt", config.linux().namespace("mount").get().path().get());
        assertEquals(List.of("/proc/kcore"), config.linux().maskedPaths());
        assertEquals("rslave", config.linux().rootfsPropagation().get());
        assertEquals("true", config.annotations().get("dev.idshift.disable"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{'root':{'path':'r'},'linux':{'uidMappings':[{'containerID':0,'hostID':1,'size':1},{'containerID':5,'hostID':9}]}} | $.linux.uidMappings[1].size: required integer is missing",
        "{'root':{'path':'r'},'linux':{'uidMappings':[{'containerID':0,'hostID':-1,'size':1}]}} | $.linux.uidMappings[0].hostID: expected an integer from 0 to 4294967295, got -1",
        "{'root':{'path':'r'},'linux':{'uidMappings':[{'containerID':0,'hostID':'x','size':1}]}} | $.linux.uidMappings[0].hostID: expected an integer from 0 to 4294967295, got \"x\"",
        "{'root':{'path':'r'},'linux':{'gidMappings':[{'containerID':0,'hostID':1,'size':0}]}} | $.linux.gidMappings[0].size: must be at least 1",
        "{'root':{'path':'r'},'linux':{'uidMappings':{}}} | $.linux.uidMappings: expected an array, got an object",
        "{'linux':{}} | $.root: required object is missing",
        "{'root':{'path':''}} | $.root.path: must not be empty",
        "{'root':{'path':'r','readonly':'yes'}} | $.root.readonly: expected true or false, got \"yes\"",
        "{'root':{'path':'r'},'annotations':{'a':1}} | $.annotations[\"a\"]: expected a string, got 1",
        "{'root':{'path':'r'},'mounts':[{'type':'bind'}]} | $.mounts[0].destination: required string is missing",
    })
    void badConfigNamesTheJsonPath(String config, String expected) {
        JsonInputException error = assertThrows(JsonInputException.class, () -> OciReader.readConfig(json(config), "config.json"));
        assertEquals("config.json: " + expected, error.getMessage());
    }

    @Test
    void malformedJsonSaysWhereAndWhat() {
        JsonInputException error = assertThrows(JsonInputException.class,
                () -> OciReader.readState("{\"id\": \"c1\",\n \"pid\": 12,,}".getBytes(StandardCharsets.UTF_8), "state"));
        assertTrue(error.getMessage().startsWith("state: $"), error.getMessage());
        assertTrue(error.getMessage().contains("malformed JSON") && error.getMessage().contains("line 2"), error.getMessage());
        assertThrows(JsonInputException.class, () -> JsonTree.parseObject(new byte[0], "state"));
        assertThrows(JsonInputException.class, () -> JsonTree.parseObject(json("[1]"), "state"));
        assertThrows(JsonInputException.class, () -> JsonTree.parseObject(json("{} {}"), "state"));
    }

    /** Past the parser's limits (a daemon caller's request nested 200,000 deep) is bad input, named as such, not an internal error. */
    @Test
    void nestingPastTheParsersLimitIsBadInput() {
        String deep = "{\"x\":" + "[".repeat(200_000) + "]".repeat(200_000) + "}";
        JsonInputException error = assertThrows(JsonInputException.class, () -> JsonTree.parseObject(json(deep), "request"));
        assertTrue(error.getMessage().startsWith("request: $: malformed JSON: ") && error.getMessage().contains("nesting depth"),
                error.getMessage());
    }

    @Test
    void tellsAConfigFromAState() {
        assertTrue(OciReader.looksLikeConfig(JsonTree.parseObject(json("{'ociVersion':'1','root':{'path':'r'}}"), "x")));
        assertFalse(OciReader.looksLikeConfig(JsonTree.parseObject(json("{'ociVersion':'1','id':'a','pid':1,'bundle':'/b'}"), "x")));
    }

    @Test
    void writesBackWhatItReadInTheSameOrder() {
        String text = "{\"b\":1,\"a\":[true,null,\"x\",2.5,18446744073709551616],\"c\":{\"d\":\"e\"}}";
        assertEquals(text, new String(JsonTree.write(JsonTree.parse(text.getBytes(StandardCharsets.UTF_8), "x")), StandardCharsets.UTF_8));
    }
}
