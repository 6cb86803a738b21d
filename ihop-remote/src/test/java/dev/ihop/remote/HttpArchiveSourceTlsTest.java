package dev.ihop.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** https against nginx with self-signed certificates: verified by default, names checked. */
class HttpArchiveSourceTlsTest {
    @TempDir
    Path dir;

    /** A self-signed certificate for {@code subjectAltName} (e.g. "IP:127.0.0.1"), made by openssl. */
    private NginxServer.Tls selfSigned(String name, String subjectAltName) throws IOException, InterruptedException {
        Path openssl = Tools.require("openssl");
        Path cert = dir.resolve(name + ".crt");
        Path key = dir.resolve(name + ".key");
        Process p = new ProcessBuilder(openssl.toString(), "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=ihop test",
                "-addext", "subjectAltName=" + subjectAltName)
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "openssl: " + output);
        return new NginxServer.Tls(cert, key);
    }

    private static SSLContext trusting(Path cert) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (InputStream in = Files.newInputStream(cert)) {
            store.setCertificateEntry("test", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    @Test
    void httpsIsVerified() throws Exception {
        byte[] content = new byte[300_000];
        new Random(5).nextBytes(content);
        Files.write(dir.resolve("a.cba"), content);
        NginxServer.Tls good = selfSigned("good", "IP:127.0.0.1");
        NginxServer.Tls wrongName = selfSigned("wrong", "DNS:updates.example.com");
        HttpOptions retrying = HttpOptions.defaults().withRetries(2);

        try (NginxServer nginx = NginxServer.start(dir, "", good)) {
            // Self-signed and not trusted: refused, at once, not retried.
            try (HttpArchiveSource s = new HttpArchiveSource(nginx.uri("a.cba"), retrying)) {
                IOException e = assertThrows(IOException.class, () -> s.read(0, 10));
                assertTrue(e.getMessage().startsWith(nginx.uri("a.cba") + ": TLS handshake failed: "), e.getMessage());
                assertEquals(1, s.stats().requests());
            }
            // Trusted: works.
            try (HttpArchiveSource s = new HttpArchiveSource(nginx.uri("a.cba"), retrying, trusting(good.certificate()))) {
                assertEquals(content.length, s.size());
                assertArrayEquals(Arrays.copyOfRange(content, 1000, 201_000), s.read(1000, 200_000));
            }
        }
        try (NginxServer nginx = NginxServer.start(dir, "", wrongName);
             HttpArchiveSource s = new HttpArchiveSource(nginx.uri("a.cba"), retrying, trusting(wrongName.certificate()))) {
            // Trusted certificate, but for another name.
            IOException e = assertThrows(IOException.class, () -> s.read(0, 10));
            assertTrue(e.getMessage().startsWith(nginx.uri("a.cba") + ": TLS handshake failed: "), e.getMessage());
        }
    }
}
