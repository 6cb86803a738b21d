package dev.ihop.cli;

import dev.ihop.format.Archive;
import dev.ihop.format.FileArchiveSource;
import dev.ihop.store.ReleaseClone;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The built-in example: two releases of a small ext4 root file system, compressed, then
 * cloned into one store, showing what the update from v1 to v2 costs.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Run ihop's main job on a built-in example: make two releases, compress them, clone v1 then v2.")
final class QuickstartCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "quickstart",
            description = "Working directory for images, archives and the store (default: ${DEFAULT-VALUE}).")
    Path dir;

    private PrintWriter out;

    @Override
    public Integer call() throws IOException, InterruptedException {
        out = spec.commandLine().getOut();
        Files.createDirectories(dir);
        Path tree = dir.resolve("rootfs");
        Path v1 = dir.resolve("v1.img");
        Path v2 = dir.resolve("v2.img");
        out.println("== Making two releases of a root file system in " + dir);
        deleteTree(tree);
        writeRootfs(tree, 1);
        makeImage(tree, v1);
        writeRootfs(tree, 2);
        makeImage(tree, v2);
        deleteTree(tree);

        run("compress", "-f", "--compression", "zstd", "-i", v1.toString(), dir.resolve("v1.cba").toString());
        run("compress", "-f", "--compression", "zstd", "-i", v2.toString(), dir.resolve("v2.cba").toString());
        Path store = dir.resolve("store");
        deleteTree(store);
        run("clone", dir.resolve("v1.cba").toString(), store.resolve("v1").toString());

        out.println();
        out.println("$ ihop clone " + dir.resolve("v2.cba") + " " + store.resolve("v2") + "    # the update");
        ReleaseClone.Summary s;
        long archiveSize;
        try (Archive a = Archive.open(new FileArchiveSource(dir.resolve("v2.cba")))) {
            archiveSize = a.source().size();
            s = ReleaseClone.run(a, store.resolve("v2"),
                    new ReleaseClone.Options(false, List.of(), null, false, "ihop " + Main.version(), Runtime.getRuntime().availableProcessors()),
                    ReleaseClone.SILENT);
        }
        out.printf(Locale.ROOT, "  %d of %d unique chunks were already in the store; %d fetched%n", s.present(), s.uniqueChunks(), s.fetched());
        out.printf(Locale.ROOT, "  update v1 -> v2 transfers %s of the %s archive (%.1f%%) and writes %s to flash, for a %s image%n",
                ByteSize.human(s.bytesFetched()), ByteSize.human(archiveSize), 100.0 * s.bytesFetched() / archiveSize,
                ByteSize.human(s.bytesWritten()), ByteSize.human(s.sourceSize()));
        out.println();
        out.println("Next: serve it as a block device with `ihop serve --socket /tmp/v2.sock " + store.resolve("v2")
                + "` (or `ihop mount ... /dev/nbd0` where the kernel has nbd).");
        return 0;
    }

    private void run(String... args) {
        out.println();
        out.println("$ ihop " + String.join(" ", args));
        out.flush();
        int code = Main.run(out, spec.commandLine().getErr(), args);
        if (code != 0) {
            throw new IllegalStateException("ihop " + args[0] + " failed with exit code " + code);
        }
    }

    /** A small but realistic tree: text configs, "binaries", a package database. */
    private static void writeRootfs(Path tree, int release) throws IOException {
        Random random = new Random(2024);
        for (int pkg = 0; pkg < 60; pkg++) {
            int version = pkg % 12 == 0 ? release : 1; // v2 upgrades every 12th package
            Path bin = tree.resolve("usr/lib/pkg" + pkg);
            Files.createDirectories(bin);
            byte[] binary = new byte[20_000 + random.nextInt(200_000)];
            Random content = new Random(pkg * 31L + version);
            for (int i = 0; i < binary.length; i++) {
                binary[i] = (byte) (content.nextInt(6) == 0 ? content.nextInt(256) : "ELF\0code".charAt(i % 8));
            }
            Files.write(bin.resolve("lib" + pkg + ".so"), binary);
            StringBuilder doc = new StringBuilder();
            for (int line = 0; line < 200; line++) {
                doc.append("pkg").append(pkg).append(" version ").append(version).append(" line ").append(line).append('\n');
            }
            Files.createDirectories(tree.resolve("usr/share/doc/pkg" + pkg));
            Files.writeString(tree.resolve("usr/share/doc/pkg" + pkg + "/README"), doc, StandardCharsets.UTF_8);
        }
        Files.createDirectories(tree.resolve("etc"));
        Files.writeString(tree.resolve("etc/os-release"), "NAME=\"ihop example\"\nVERSION_ID=\"" + release + "\"\n");
    }

    private void makeImage(Path tree, Path image) throws IOException, InterruptedException {
        Files.deleteIfExists(image);
        List<String> cmd = new ArrayList<>(List.of("mkfs.ext4", "-q", "-F", "-b", "4096", "-U", "6f1c2a3e-0d1b-4c5a-9e8f-112233445566",
                "-E", "hash_seed=6f1c2a3e-0d1b-4c5a-9e8f-112233445566,root_owner=0:0", "-d", tree.toString(), image.toString(), "32M"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("E2FSPROGS_FAKE_TIME", "1700000000");
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("the example needs mkfs.ext4 (Debian package e2fsprogs): " + e.getMessage(), e);
        }
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("mkfs.ext4 failed: " + log.strip());
        }
        out.println("  " + image + ": ext4, " + ByteSize.human(Files.size(image)));
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
