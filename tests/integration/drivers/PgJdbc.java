// SPDX-License-Identifier: GPL-2.0-only
// Known PostgreSQL workloads from PgJDBC (Debian's /usr/share/java/postgresql.jar), each call
// timed by the client itself, for tests/integration/test_conformance_pg.py (which compiles
// this file at test time).
//
//     java -cp postgresql.jar:DIR PgJdbc PORT WORKLOAD N OUT
//
// WORKLOAD (same meaning as in drivers/pg_python.py):
//     sleep N      one PreparedStatement "select pg_sleep(?)" executed N times with 0.05
//     prepared N   one PreparedStatement that sleeps 10 ms executed N times
//     batch N      N x addBatch() of one INSERT, one executeBatch() (timed as one call), then
//                  a transaction (autocommit off) whose one query is timed on its own
// OUT gets {"calls": [ms...]} or {"batch_ms": ..., "after_ms": ...}.
//
// What goes on the wire (strace -f -e trace=write,writev,sendto,sendmsg,read,recvfrom,
// PgJDBC 42.5.5 on OpenJDK 17; it writes through a BufferedOutputStream of 8192 bytes, so a
// syscall is a buffer flush, not a message):
//   single executions: write() of Parse+Bind+Describe+Execute+Sync (81 bytes for pg_sleep)
//     with an unnamed statement for the first 4 executions (prepareThreshold=5), then the
//     5th parses the named statement S_n in the same write (87 bytes) and later executions
//     send only Bind/Execute/Sync (45 bytes); each answer comes in one read().
//   executeBatch(40): a Parse S_n/Describe/Sync round trip (91 bytes, answered in 31; a group
//     that executes nothing), then ONE write() of 2195 bytes: 40 x Bind/Describe/Execute and
//     one Sync, answered in one read of 1046 bytes.
//   executeBatch(1000): the same Parse round trip, then the driver sends a Sync and reads the
//     answers every 256 queries (so that neither side's socket buffer fills): writes of 8192 +
//     5983 bytes then a read of 6636, 8192 + 6149 / 6662 twice, 8192 + 4861 / 6064: four Sync
//     groups of 255, 256, 256 and 233 executions (26 answer bytes each, plus ReadyForQuery),
//     and each 8192-byte write ends in the middle of a message.
//   autocommit off: BEGIN goes in the same write as the query that follows it (one group of
//     133 bytes with AFTER_SQL), COMMIT in a 49-byte write of its own.
//   The socket is AF_INET6 (::ffff:127.0.0.1, a v4-mapped address), unlike the other drivers.
import java.io.FileWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

public class PgJdbc {
	// Same statements as drivers/pg_python.py: the test matches rows by them.
	static final String SLEEP_SQL = "select pg_sleep(?)";
	static final String PREPARED_SQL = "select ?::int + 1 as prepared_v, pg_sleep(0.01)";
	static final String INSERT_SQL = "insert into conformance_batch (id, name) values (?, ?)";
	static final String AFTER_SQL = "select pg_sleep(?) as after_batch";
	// Run before the timed calls under another fingerprint: the JVM loads and compiles the
	// driver's code on its first query, time that no wire latency contains.
	static final String WARMUP_SQL = "select ?::float8 as warmup";

	static double msSince(long t0) {
		return (System.nanoTime() - t0) / 1e6;
	}

	static void drain(ResultSet rs) throws Exception {
		while (rs.next())
			rs.getString(1);
		rs.close();
	}

	public static void main(String[] a) throws Exception {
		String port = a[0], workload = a[1], out = a[3];
		int n = Integer.parseInt(a[2]);
		// reWriteBatchedInserts off (its default, said here because it matters): with it on,
		// a batch of INSERTs becomes multi-row INSERTs and the executions are fewer.
		Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port
				+ "/postgres?user=postgres&sslmode=disable&reWriteBatchedInserts=false");
		c.setAutoCommit(true);
		PreparedStatement w = c.prepareStatement(WARMUP_SQL);
		for (int i = 0; i < 3; i++) {
			w.setDouble(1, 1.0);
			drain(w.executeQuery());
		}
		w.close();
		StringBuilder json = new StringBuilder("{");
		if (workload.equals("sleep") || workload.equals("prepared")) {
			boolean sleep = workload.equals("sleep");
			PreparedStatement ps = c.prepareStatement(sleep ? SLEEP_SQL : PREPARED_SQL);
			List<Double> calls = new ArrayList<>();
			for (int i = 0; i < n; i++) {
				long t0 = System.nanoTime();
				if (sleep)
					ps.setDouble(1, 0.05);
				else
					ps.setInt(1, i);
				drain(ps.executeQuery());
				calls.add(msSince(t0));
			}
			ps.close();
			json.append("\"calls\": ").append(calls.toString());
		} else if (workload.equals("batch")) {
			PreparedStatement ps = c.prepareStatement(INSERT_SQL);
			for (int i = 0; i < n; i++) {
				ps.setInt(1, i);
				ps.setString(2, "row " + i);
				ps.addBatch();
			}
			long t0 = System.nanoTime();
			int[] done = ps.executeBatch();
			double batch = msSince(t0);
			if (done.length != n)
				throw new IllegalStateException("executeBatch ran " + done.length);
			ps.close();
			c.setAutoCommit(false);
			PreparedStatement after = c.prepareStatement(AFTER_SQL);
			after.setDouble(1, 0.05);
			t0 = System.nanoTime();
			drain(after.executeQuery());
			double afterMs = msSince(t0);
			c.commit();
			after.close();
			json.append("\"batch_ms\": ").append(batch).append(", \"after_ms\": ").append(afterMs);
		} else {
			throw new IllegalArgumentException("unknown workload " + workload);
		}
		c.close();
		try (FileWriter f = new FileWriter(out)) {
			f.write(json.append("}").toString());
		}
	}
}
