package dev.idshift.it.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a command to completion with a deadline; a command that overruns is killed by its handle. */
public final class Exec {
    private Exec() {
    }

    public record Result(int exit, String stdout, String stderr) {
        public String describe() {
            return "exit " + exit + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    public static Result run(List<String> command) {
        return run(command, null, Map.of(), 120);
    }

    public static Result run(List<String> command, byte[] stdin, Map<String, String> environment, int timeoutSeconds) {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command + ": " + e.getMessage(), e);
        }
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(process, false));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(process, true));
        try {
            try (var input = process.getOutputStream()) {
                if (stdin != null) {
                    input.write(stdin);
                }
            }
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException(command + " did not finish within " + timeoutSeconds + " s; killed");
            }
            return new Result(process.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
        } catch (IOException | InterruptedException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            process.destroyForcibly();
            throw new IllegalStateException(command + ": " + e, e);
        }
    }

    private static String drain(Process process, boolean errors) {
        try {
            return new String((errors ? process.getErrorStream() : process.getInputStream()).readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    public static Result ok(List<String> command) {
        Result result = run(command);
        if (result.exit() != 0) {
            throw new IllegalStateException(command + " failed: " + result.describe());
        }
        return result;
    }
}
