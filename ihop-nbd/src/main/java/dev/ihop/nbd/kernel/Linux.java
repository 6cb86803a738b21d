package dev.ihop.nbd.kernel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The one native surface of ihop: the few libc calls the kernel NBD path needs, bound with
 * the Foreign Function &amp; Memory API (no JNI, no helper binary). Each call captures errno
 * and turns a failure into an {@link ErrnoException} naming the call.
 *
 * <p>Linux x86-64 / aarch64 with glibc or musl; the NBD ioctl numbers are
 * {@code _IO(0xab, n)} from {@code <linux/nbd.h>}.
 */
@SuppressWarnings("restricted") // this class is the one place that calls native code
public final class Linux {
    private Linux() {}

    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_CLOEXEC = 0x80000;
    public static final int AF_UNIX = 1;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SHUT_RDWR = 2;
    public static final int SIG_BLOCK = 0;
    public static final int SIGHUP = 1;
    public static final int SIGINT = 2;
    public static final int SIGTERM = 15;

    public static final int EINTR = 4;
    public static final int ENXIO = 6;
    public static final int EBADF = 9;
    public static final int EACCES = 13;
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EBUSY = 16;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENOTTY = 25;

    public static final long NBD_SET_SOCK = 0xab00;
    public static final long NBD_SET_BLKSIZE = 0xab01;
    public static final long NBD_SET_SIZE = 0xab02;
    public static final long NBD_DO_IT = 0xab03;
    public static final long NBD_CLEAR_SOCK = 0xab04;
    public static final long NBD_CLEAR_QUE = 0xab05;
    public static final long NBD_SET_SIZE_BLOCKS = 0xab07;
    public static final long NBD_DISCONNECT = 0xab08;
    public static final long NBD_SET_TIMEOUT = 0xab09;
    public static final long NBD_SET_FLAGS = 0xab0a;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    /** glibc's sigset_t is 1024 bits; musl's is 128 bytes as well. */
    private static final long SIGSET_SIZE = 128;

    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle IOCTL = downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle SOCKETPAIR = downcall("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle SHUTDOWN = downcall("shutdown",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle READ = downcall("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle WRITEV = downcall("writev",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle SIGEMPTYSET = downcall("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SIGADDSET = downcall("sigaddset", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle PTHREAD_SIGMASK = downcall("pthread_sigmask",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle STRERROR = downcall("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** Scratch memory for errno, one per calling thread (calls are short and never re-entrant). */
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.global().allocate(CALL_STATE));

    static MemorySegment callState() {
        return STATE.get();
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    static ErrnoException failure(String call, MemorySegment state) {
        int errno = errno(state);
        return new ErrnoException(call, errno, strerror(errno));
    }

    /** The C library's description of {@code errno}. */
    public static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code open(path, flags)}; returns the file descriptor. */
    public static int open(String path, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState();
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path), flags, 0);
            if (fd < 0) {
                throw failure("open(" + path + ")", state);
            }
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void close(int fd) throws ErrnoException {
        MemorySegment state = callState();
        int result;
        try {
            result = (int) CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (result < 0) {
            throw failure("close", state);
        }
    }

    /** {@code ioctl(fd, request, argument)}; {@code name} is the request's name for the error message. */
    public static int ioctl(int fd, long request, long argument, String name) throws ErrnoException {
        MemorySegment state = callState();
        int result;
        try {
            result = (int) IOCTL.invokeExact(state, fd, request, argument);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (result < 0) {
            throw failure("ioctl(" + name + ")", state);
        }
        return result;
    }

    /** {@code socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)}; returns both descriptors. */
    public static int[] socketpair() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            MemorySegment state = callState();
            int result = (int) SOCKETPAIR.invokeExact(state, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
            if (result < 0) {
                throw failure("socketpair", state);
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code shutdown(fd, SHUT_RDWR)}: wakes a thread blocked reading the socket. */
    public static void shutdown(int fd) throws ErrnoException {
        MemorySegment state = callState();
        int result;
        try {
            result = (int) SHUTDOWN.invokeExact(state, fd, SHUT_RDWR);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (result < 0) {
            throw failure("shutdown", state);
        }
    }

    /** {@code read(fd, buffer, size)}, retried on EINTR; returns bytes read, 0 at end of stream. */
    public static long read(int fd, MemorySegment buffer) throws ErrnoException {
        MemorySegment state = callState();
        while (true) {
            long n;
            try {
                n = (long) READ.invokeExact(state, fd, buffer, buffer.byteSize());
            } catch (Throwable t) {
                throw rethrow(t);
            }
            if (n >= 0) {
                return n;
            }
            if (errno(state) != EINTR) {
                throw failure("read", state);
            }
        }
    }

    /** {@code writev(fd, iov, count)}, retried on EINTR; returns bytes written. */
    public static long writev(int fd, MemorySegment iovecs, int count) throws ErrnoException {
        MemorySegment state = callState();
        while (true) {
            long n;
            try {
                n = (long) WRITEV.invokeExact(state, fd, iovecs, count);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            if (n >= 0) {
                return n;
            }
            if (errno(state) != EINTR) {
                throw failure("writev", state);
            }
        }
    }

    /**
     * Blocks SIGINT, SIGTERM and SIGHUP in the calling thread, so that the kernel delivers
     * them to another thread. A thread sleeping in {@code NBD_DO_IT} must not take them: an
     * interrupted {@code NBD_DO_IT} tears the device down on the spot.
     */
    public static void blockTerminationSignals() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(SIGSET_SIZE, 8);
            int r = (int) SIGEMPTYSET.invokeExact(set);
            r |= (int) SIGADDSET.invokeExact(set, SIGINT);
            r |= (int) SIGADDSET.invokeExact(set, SIGTERM);
            r |= (int) SIGADDSET.invokeExact(set, SIGHUP);
            int error = (int) PTHREAD_SIGMASK.invokeExact(SIG_BLOCK, set, MemorySegment.NULL);
            if (r != 0 || error != 0) {
                throw new ErrnoException("pthread_sigmask", error, strerror(error));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("unexpected checked exception from a native call", t);
    }
}
