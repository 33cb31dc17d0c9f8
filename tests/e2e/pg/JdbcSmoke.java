// pgjdbc (the PostgreSQL JDBC driver) against the PostgreSQL port of the server
// under test. Compiled and run by tests/e2e/run.sh section q:
//
//   javac -d DIR tests/e2e/pg/JdbcSmoke.java
//   java -cp DIR:/usr/share/java/postgresql.jar JdbcSmoke PORT
//
// User postgres, database kv, no password. pgjdbc uses the extended protocol for
// everything; after prepareThreshold (5) executions of one PreparedStatement it
// switches to a named server-side statement (Parse once, then Bind/Execute). It also
// sends startup parameters of its own (DateStyle=ISO, TimeZone of the JVM,
// extra_float_digits=2, client_encoding=UTF8) and BEGIN implicitly when autocommit
// is off. Prints PASS/FAIL per check and "jdbc: N of M checks passed"; exit 1 on a
// failure.

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

public class JdbcSmoke {
    interface Check { void run(Connection c) throws Exception; }

    static String url;
    static int passed = 0, total = 0;

    static void eq(String what, Object got, Object want) {
        if (got == null ? want != null : !got.equals(want))
            throw new AssertionError(what + ": got " + got + ", want " + want);
    }

    static String one(Connection c, String sql, String param) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    static long count(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM kv")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static void run(String name, Check check) {
        total++;
        try (Connection c = DriverManager.getConnection(url)) {
            try (Statement s = c.createStatement()) { s.execute("TRUNCATE kv"); }
            check.run(c);
            passed++;
            System.out.println("PASS: jdbc " + name);
        } catch (Throwable e) {
            String state = e instanceof SQLException ? " (SQLSTATE " + ((SQLException) e).getSQLState() + ")" : "";
            System.out.println("FAIL: jdbc " + name + ": " + e.getClass().getSimpleName() + ": "
                    + String.valueOf(e.getMessage()).replace('\n', ' ') + state);
        }
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/kv?user=postgres&connectTimeout=5&socketTimeout=30"
                + "&ApplicationName=jdbc-smoke";

        run("connect and metadata", c -> {
            eq("product name", c.getMetaData().getDatabaseProductName(), "PostgreSQL");
            eq("version is set", c.getMetaData().getDatabaseMajorVersion() >= 10, true);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                rs.next();
                eq("SELECT 1", rs.getInt(1), 1);
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW application_name")) {
                rs.next();
                eq("application_name from the startup packet", rs.getString(1), "jdbc-smoke");
            }
        });

        run("prepared insert and select (past prepareThreshold)", c -> {
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO kv (key, value) VALUES (?, ?)")) {
                for (int i = 0; i < 20; i++) {
                    ins.setString(1, "k" + i);
                    ins.setString(2, "v" + i + " ✓");
                    eq("insert count " + i, ins.executeUpdate(), 1);
                }
            }
            try (PreparedStatement sel = c.prepareStatement("SELECT value FROM kv WHERE key = ?")) {
                for (int i = 0; i < 20; i++) {
                    sel.setString(1, "k" + i);
                    try (ResultSet rs = sel.executeQuery()) {
                        eq("row " + i, rs.next(), true);
                        eq("value " + i, rs.getString("value"), "v" + i + " ✓");
                        eq("one row " + i, rs.next(), false);
                    }
                }
                sel.setString(1, "missing");
                try (ResultSet rs = sel.executeQuery()) { eq("missing key", rs.next(), false); }
            }
            eq("count", count(c), 20L);
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT key, value FROM kv WHERE key LIKE ? ORDER BY key LIMIT ?")) {
                ps.setString(1, "k1%");
                ps.setInt(2, 3);
                List<String> keys = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) { while (rs.next()) keys.add(rs.getString(1)); }
                eq("LIKE ORDER BY LIMIT", keys.toString(), "[k1, k10, k11]");
            }
            try (PreparedStatement up = c.prepareStatement("UPDATE kv SET value = ? WHERE key = ?")) {
                up.setString(1, "new");
                up.setString(2, "k0");
                eq("update count", up.executeUpdate(), 1);
                up.setString(2, "missing");
                eq("update count missing", up.executeUpdate(), 0);
            }
            eq("after update", one(c, "SELECT value FROM kv WHERE key = ?", "k0"), "new");
            try (PreparedStatement del = c.prepareStatement("DELETE FROM kv WHERE key IN (?, ?)")) {
                del.setString(1, "k0");
                del.setString(2, "k1");
                eq("delete count", del.executeUpdate(), 2);
            }
        });

        run("batch insert", c -> {
            try (PreparedStatement ins = c.prepareStatement(
                    "INSERT INTO kv VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value")) {
                for (int i = 0; i < 100; i++) {
                    ins.setString(1, "b" + i);
                    ins.setString(2, Integer.toString(i));
                    ins.addBatch();
                }
                int[] counts = ins.executeBatch();
                int sum = 0;
                for (int n : counts) sum += n;
                eq("batch update counts", sum, 100);
            }
            eq("count after batch", count(c), 100L);
        });

        run("transactions and error recovery", c -> {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO kv VALUES ('t1', '1')");
                c.rollback();
                eq("rolled back", count(c), 0L);
                s.executeUpdate("INSERT INTO kv VALUES ('t1', '1')");
                c.commit();
                try {
                    s.executeUpdate("INSERT INTO kv VALUES ('t1', 'dup')");
                    throw new AssertionError("duplicate key: no error");
                } catch (SQLException e) {
                    eq("duplicate SQLSTATE", e.getSQLState(), "23505");
                }
                try {
                    s.executeQuery("SELECT 1").close();
                    throw new AssertionError("aborted transaction: no error");
                } catch (SQLException e) {
                    eq("aborted SQLSTATE", e.getSQLState(), "25P02");
                }
                c.rollback();
                eq("value after recovery", one(c, "SELECT value FROM kv WHERE key = ?", "t1"), "1");
                c.commit();
            }
            c.setAutoCommit(true);
            try (Statement s = c.createStatement()) {
                try {
                    s.executeQuery("SELECT * FROM nope").close();
                    throw new AssertionError("unknown table: no error");
                } catch (SQLException e) {
                    eq("unknown table SQLSTATE", e.getSQLState(), "42P01");
                }
                eq("count after error", count(c), 1L);
            }
        });

        run("query timeout cancels pg_sleep", c -> {
            try (Statement s = c.createStatement()) {
                s.setQueryTimeout(1);
                long start = System.nanoTime();
                try {
                    s.executeQuery("SELECT pg_sleep(5)").close();
                    throw new AssertionError("pg_sleep(5) with a 1 s query timeout: no error");
                } catch (SQLException e) {
                    eq("cancel SQLSTATE", e.getSQLState(), "57014");
                }
                double took = (System.nanoTime() - start) / 1e9;
                if (took > 4) throw new AssertionError("cancel took " + took + " s");
                s.setQueryTimeout(0);
                try (ResultSet rs = s.executeQuery("SELECT 1")) {
                    rs.next();
                    eq("after cancel", rs.getInt(1), 1);
                }
            }
        });

        System.out.println("jdbc: " + passed + " of " + total + " checks passed");
        System.exit(passed == total ? 0 : 1);
    }
}
