// SPDX-License-Identifier: GPL-2.0-only
// The JDK's built-in com.sun.net.httpserver serving the conformance API: compiled by the test
// with javac into its tmp dir, run with
//   java -Dsun.net.httpserver.nodelay=true -cp DIR ConformanceServer PORT LOG
// (nodelay: see start_java in test_conformance_http.py).
//
// sendResponseHeaders(code, n > 0) frames with Content-Length, (code, 0) with chunked.
// LOG gets "METHOD TARGET STATUS MS LOWER_MS" per request. MS runs from handle()'s start (the
// head has just been read) to the exchange's close (the response's last byte written): the
// server's own measure. LOWER_MS ends before the call that makes the response's last write
// (the body's write, or the last chunk's); both of its ends lie inside the interval from the
// read of the head to the return of the last write, so it is a lower bound of that interval.
//
// How the JDK writes (strace, JDK 17): head and body never share a write:
//   - fixed: write(head), write(body);
//   - /stream (chunked): write(head), write("65\r\n" + data + "\r\n") per chunk, then the
//     terminator alone at close(): write("0\r\n\r\n");
//   - HTTP/1.0 /stream: "HTTP/1.1 200 OK", Connection: close, no length: write(head),
//     write(data) per chunk, then the close.
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class ConformanceServer {
	private static final Pattern DELAY = Pattern.compile("^/delay/(\\d+)$");
	private static final Pattern STREAM = Pattern.compile("^/stream/(\\d+)$");
	private static final byte[] CHUNK =
			("c".repeat(100) + "\n").getBytes(StandardCharsets.US_ASCII);
	private static FileOutputStream log;

	// Not an exchange attribute: the JDK keeps those in the HttpContext, shared by all
	// exchanges, and the previous request's thread would read the next one's stamp.
	private static final ThreadLocal<Long> beforeLast = new ThreadLocal<>();

	private static void beforeLastWrite() {
		beforeLast.set(System.nanoTime());
	}

	private static void fixed(HttpExchange ex, int status, String body) throws IOException {
		byte[] b = body.getBytes(StandardCharsets.US_ASCII);
		ex.getResponseHeaders().set("Content-Type", "text/plain");
		ex.sendResponseHeaders(status, b.length);
		try (OutputStream os = ex.getResponseBody()) {
			beforeLastWrite();
			os.write(b);
		}
	}

	private static int serve(HttpExchange ex) throws Exception {
		String path = ex.getRequestURI().getPath();
		String method = ex.getRequestMethod();
		Matcher m;
		if (method.equals("POST") && path.equals("/echo")) {
			long n = 0;
			try (InputStream in = ex.getRequestBody()) {
				byte[] buf = new byte[65536];
				for (int r; (r = in.read(buf)) > 0;)
					n += r;
			}
			fixed(ex, 201, n + "\n");
			return 201;
		} else if ((m = DELAY.matcher(path)).matches()) {
			Thread.sleep(Long.parseLong(m.group(1)));
			fixed(ex, 200, "delayed " + m.group(1) + "\n");
			return 200;
		} else if ((m = STREAM.matcher(path)).matches()) {
			int n = Integer.parseInt(m.group(1));
			ex.getResponseHeaders().set("Content-Type", "text/plain");
			ex.sendResponseHeaders(200, 0); // 0: length unknown, chunked
			try (OutputStream os = ex.getResponseBody()) {
				for (int i = 0; i < n; i++) {
					Thread.sleep(10);
					beforeLastWrite();
					os.write(CHUNK);
					os.flush();
				}
			}
			return 200;
		} else if (path.startsWith("/missing/")) {
			fixed(ex, 404, "not found\n");
			return 404;
		} else if (path.equals("/boom")) {
			fixed(ex, 500, "boom\n");
			return 500;
		}
		fixed(ex, 404, "no route\n");
		return 404;
	}

	public static void main(String[] args) throws IOException {
		if (args.length != 2) {
			System.err.println("usage: ConformanceServer PORT LOG");
			System.exit(2);
		}
		log = new FileOutputStream(args[1], true);
		int port = Integer.parseInt(args[0]);
		InetSocketAddress addr = new InetSocketAddress("127.0.0.1", port);
		HttpServer server = HttpServer.create(addr, 128);
		server.createContext("/", ex -> {
			long t0 = System.nanoTime();
			beforeLast.remove();
			int status = 0;
			try {
				status = serve(ex);
			} catch (Exception e) {
				e.printStackTrace();
			} finally {
				ex.close();
			}
			long end = System.nanoTime();
			Long pre = beforeLast.get();
			long lower = pre == null ? end : pre;
			String line = String.format(Locale.ROOT, "%s %s %d %.3f %.3f%n",
					ex.getRequestMethod(), ex.getRequestURI(), status,
					(end - t0) / 1e6, (lower - t0) / 1e6);
			synchronized (log) {
				log.write(line.getBytes(StandardCharsets.US_ASCII));
			}
		});
		// One thread per request, as deployed servers do: a sleeping /delay blocks no one.
		server.setExecutor(Executors.newCachedThreadPool());
		server.start();
		System.out.println("ready");
	}
}
