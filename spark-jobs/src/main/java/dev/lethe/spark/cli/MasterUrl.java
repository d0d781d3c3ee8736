package dev.lethe.spark.cli;

import dev.lethe.LetheInputException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a Spark master URL before a session is started, so that a typo or an unset variable is a one-line error
 * naming the argument (exit 2) instead of Spark's internal failure: the forms Spark accepts ({@code local},
 * {@code local[N]}, {@code local[*]}, {@code local[N,F]}, {@code local-cluster[N,C,M]}, {@code spark://HOST:PORT}
 * (comma-separated for standby masters), {@code yarn}, {@code k8s://...}, {@code mesos://...}) with N, F >= 1;
 * and, for a standalone master, that one of its hosts accepts a connection (Spark itself retries for a minute and
 * then fails with "Cannot call methods on a stopped SparkContext").
 */
public final class MasterUrl {
  private static final Pattern LOCAL = Pattern.compile("local(\\[(\\*|\\d{1,9})(,(\\d{1,9}))?])?");
  private static final Pattern LOCAL_CLUSTER = Pattern.compile("local-cluster\\[(\\d{1,9}),(\\d{1,9}),(\\d{1,9})]");
  private static final Pattern HOST_PORT = Pattern.compile("([^:/,\\s]+|\\[[0-9a-fA-F:]+]):(\\d{1,5})");
  static final int CONNECT_TIMEOUT_MS = 5000;

  private MasterUrl() {}

  /**
   * Returns {@code master} if Spark accepts its form, else throws bad input naming {@code origin} (the argument or
   * config key it came from) and the value as given.
   */
  public static String check(String master, String origin) {
    String m = master.trim();
    Matcher local = LOCAL.matcher(m);
    if (local.matches()) {
      if (local.group(2) != null && !local.group(2).equals("*") && Integer.parseInt(local.group(2)) < 1) {
        throw bad(master, origin, "local[N] needs N >= 1 threads");
      }
      if (local.group(4) != null && Integer.parseInt(local.group(4)) < 1) {
        throw bad(master, origin, "local[N,F] needs F >= 1 task attempts");
      }
      return m;
    }
    Matcher cluster = LOCAL_CLUSTER.matcher(m);
    if (cluster.matches()) {
      for (int g = 1; g <= 3; g++) {
        if (Integer.parseInt(cluster.group(g)) < 1) {
          throw bad(master, origin, "local-cluster[N,C,M] needs N, C, M >= 1");
        }
      }
      return m;
    }
    if (m.startsWith("spark://")) {
      standaloneHosts(master, origin);
      return m;
    }
    if (m.equals("yarn") || m.startsWith("k8s://") && m.length() > "k8s://".length()
        || m.startsWith("mesos://") && m.length() > "mesos://".length()) {
      return m;
    }
    throw bad(master, origin, "not a Spark master URL");
  }

  /**
   * For a standalone master ({@code spark://...}), checks that at least one of its hosts accepts a TCP connection;
   * other masters are left to Spark.
   */
  public static void requireReachable(String master, String origin) {
    if (!master.trim().startsWith("spark://")) {
      return;
    }
    List<String> failures = new ArrayList<>();
    for (InetSocketAddress given : standaloneHosts(master, origin)) {
      InetSocketAddress a = new InetSocketAddress(given.getHostString(), given.getPort());
      if (a.isUnresolved()) {
        failures.add(a.getHostString() + ": unknown host");
        continue;
      }
      try (Socket s = new Socket()) {
        s.connect(a, CONNECT_TIMEOUT_MS);
        return;
      } catch (IOException e) {
        failures.add(a.getHostString() + ":" + a.getPort() + ": " + e.getMessage());
      }
    }
    throw LetheInputException.of("%s %s: All masters are unresponsive (%s)", origin, master,
        String.join("; ", failures));
  }

  private static List<InetSocketAddress> standaloneHosts(String master, String origin) {
    List<InetSocketAddress> hosts = new ArrayList<>();
    for (String hp : master.trim().substring("spark://".length()).split(",")) {
      Matcher m = HOST_PORT.matcher(hp.trim());
      if (!m.matches() || Integer.parseInt(m.group(2)) < 1 || Integer.parseInt(m.group(2)) > 65535) {
        throw bad(master, origin, "spark:// needs HOST:PORT (comma-separated for standby masters)");
      }
      hosts.add(InetSocketAddress.createUnresolved(m.group(1), Integer.parseInt(m.group(2))));
    }
    return hosts;
  }

  private static LetheInputException bad(String master, String origin, String why) {
    return LetheInputException.of("%s '%s': %s (expected local, local[N], local[*], local[N,F], spark://HOST:PORT,"
        + " yarn or k8s://HOST:PORT)", origin, master, why);
  }
}
