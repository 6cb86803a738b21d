package dev.ihop.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a long-lived service (a server, a mounted device) in the foreground until it ends by
 * itself or SIGINT/SIGTERM arrive. A signal stops the service cleanly and the process exits
 * 0: the JVM turns both signals into shutdown hooks, which cannot choose the exit status, so
 * the hook ends the process with {@link Runtime#halt} once the service has stopped. Without
 * a signal the hook is removed and the command's own exit code stands.
 */
final class ForegroundService {
    private static final long STOP_TIMEOUT_SECONDS = 30;

    interface Service {
        /** Blocks until the service has ended. */
        void awaitEnd() throws Exception;

        /** Stops the service; {@link #awaitEnd()} then returns. */
        void stop() throws Exception;
    }

    private ForegroundService() {}

    static {
        // Log lines of the server (a failed read, a dropped client) as one line each.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "ihop: %5$s%6$s%n");
        }
    }

    /** Call before the service creates its first logger. */
    static void configureLogging() {
        // the static initializer does the work
    }

    static int run(Service service) throws Exception {
        AtomicBoolean signalled = new AtomicBoolean();
        CountDownLatch ended = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            signalled.set(true);
            int status = 0;
            try {
                service.stop();
                if (!ended.await(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    System.err.println("ihop: did not stop within " + STOP_TIMEOUT_SECONDS + " s");
                    status = 1;
                }
            } catch (Exception e) {
                System.err.println("ihop: stopping failed: " + ErrorHandler.message(e));
                status = 1;
            }
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(status);
        }, "ihop-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            service.awaitEnd();
        } catch (Exception e) {
            if (!signalled.get()) {
                removeHook(hook);
                throw e;
            }
        } finally {
            ended.countDown();
        }
        removeHook(hook);
        return 0;
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // A signal arrived: shutdown has begun and the hook will end the process.
        }
    }
}
