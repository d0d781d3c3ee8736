package dev.lethe.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MachineTest {
  /** The first processor's block of an x86 cpuinfo (from a 2-vCPU EPYC VM), cut to the lines that matter. */
  private static final String X86 = String.join("\n",
      "processor\t: 0",
      "vendor_id\t: AuthenticAMD",
      "cpu family\t: 25",
      "model\t\t: 17",
      "model name\t: AMD EPYC",
      "stepping\t: 1",
      "flags\t\t: fpu sse sse2 avx fma avx2 avx512f avx512dq",
      "",
      "processor\t: 1",
      "model name\t: Other Model",
      "flags\t\t: sse2",
      "");

  @Test
  void describesTheFirstProcessorItsExtensionsAndCaches() {
    assertThat(Machine.processor(X86, "L1d 32K L2 1024K", "amd64"))
        .isEqualTo("AMD EPYC (family 25, model 17, stepping 1), AVX2 FMA AVX-512F, caches L1d 32K L2 1024K");
    // an ARM cpuinfo has no model name, family or flags, but Features
    String arm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes crc32 sve\nCPU part\t: 0xd40\n";
    assertThat(Machine.processor(arm, "", "aarch64")).isEqualTo("unknown aarch64 processor, ASIMD SVE");
    assertThat(Machine.processor("", "", "amd64")).isEqualTo("unknown amd64 processor");
    // a flag is matched as a word: avx512f must not count as FMA or AVX2 on its own
    assertThat(Machine.processor("model name\t: X\nflags\t\t: avx512fma avx2x\n", "", "amd64")).isEqualTo("X");
  }

  @Test
  void listsCachesByLevelDataBeforeInstruction(@TempDir Path dir) throws Exception {
    cache(dir, "index3", "3", "Unified", "32768K");
    cache(dir, "index0", "1", "Data", "32K");
    cache(dir, "index2", "2", "Unified", "1024K");
    cache(dir, "index1", "1", "Instruction", "32K");
    Files.createDirectories(dir.resolve("index4")); // no level or size: skipped
    Files.createDirectories(dir.resolve("power"));
    assertThat(Machine.caches(dir)).isEqualTo("L1d 32K L1i 32K L2 1024K L3 32768K");
    assertThat(Machine.caches(dir.resolve("missing"))).isEmpty();
  }

  @Test
  void thisMachineHasADescription() {
    String p = Machine.processor();
    assertThat(p).isNotBlank().doesNotContain("\n");
    if (Files.isReadable(Path.of("/proc/cpuinfo")) && System.getProperty("os.arch").equals("amd64")) {
      assertThat(p).doesNotStartWith("unknown");
    }
  }

  @Test
  void differencesNameEachFactThatChanged() {
    Map<String, String> now = new LinkedHashMap<>();
    now.put("processor", "B");
    now.put("cores", "2");
    now.put("spark_master", "local[*] (default parallelism 2)");
    Map<String, Object> saved = new LinkedHashMap<>();
    saved.put("processor", "A");
    saved.put("cores", 2); // a number once parsed from JSON compares by its text
    assertThat(Machine.differences(saved, now)).isEqualTo(List.of("processor: A, now B",
        "spark_master: not recorded, now local[*] (default parallelism 2)"));
    saved.put("processor", "B");
    saved.put("spark_master", "local[*] (default parallelism 2)");
    assertThat(Machine.differences(saved, now)).isEmpty();
  }

  private static void cache(Path dir, String index, String level, String type, String size) throws Exception {
    Path d = Files.createDirectories(dir.resolve(index));
    Files.writeString(d.resolve("level"), level + "\n");
    Files.writeString(d.resolve("type"), type + "\n");
    Files.writeString(d.resolve("size"), size + "\n");
  }
}
