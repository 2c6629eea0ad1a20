package dev.idshift.it;

import dev.idshift.it.support.Runtime;
import java.util.stream.Stream;

/** Argument sources shared by parameterized tests. */
final class Runtimes {
    private Runtimes() {
    }

    static Stream<Runtime> all() {
        return Stream.of(Runtime.values());
    }
}
