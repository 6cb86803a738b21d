package dev.ihop.cli;

import dev.ihop.remote.HttpOptions;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Option;

/** The HTTP options shared by every command that reads a remote archive. */
final class HttpFlags {
    @Option(names = "--http-retry-count", paramLabel = "N", defaultValue = "0",
            description = "Retries of a failed request, resuming where it broke (default: ${DEFAULT-VALUE}).")
    int retries;

    @Option(names = "--http-retry-delay", paramLabel = "SECONDS", defaultValue = "0",
            description = "Seconds to wait before each retry (default: ${DEFAULT-VALUE}).")
    double retryDelay;

    @Option(names = "--http-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "Fail a request that makes no progress for this long (default: ${DEFAULT-VALUE}).")
    double timeout;

    @Option(names = "--http-header", paramLabel = "'NAME: VALUE'", description = "Extra request header (repeatable).")
    List<String> headers = List.of();

    HttpOptions toOptions() {
        return HttpOptions.defaults()
                .withRetries(retries)
                .withRetryDelay(Duration.ofMillis((long) (retryDelay * 1000)))
                .withTimeout(Duration.ofMillis((long) (timeout * 1000)))
                .withHeaders(headers);
    }
}
